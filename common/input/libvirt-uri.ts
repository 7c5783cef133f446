// libvirt connection URIs from configs and inventories. libvirt hands
// unknown query parameters to the transport, and some known ones run
// programs (`command` is the local ssh binary, `netcat` and `proxy` choose
// what runs on the remote host, `socket` where it connects) or switch off
// host key checks: so only an allow-list of schemes and parameters passes.

import { shown } from './clip.js';

const URI = /^([a-z0-9+]+):\/\/([^/?#]*)\/(system|session)(?:\?([^#]*))?$/;
const LOCAL = /^qemu(?:\+unix)?:\/\/\/(system|session)(?:\?|$)/;
const SCHEME = /^qemu(?:\+(ssh|libssh|libssh2|tls|tcp|unix))?$/;
const HOST = /^(?:[A-Za-z0-9_][A-Za-z0-9._-]{0,63}@)?(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\])?(?::[0-9]{1,5})?$/;
const ABSOLUTE = /^\/[A-Za-z0-9._/-]{1,4095}$/;
const FLAG = /^[01]$/;

export type Transport = 'local' | 'ssh' | 'libssh' | 'libssh2' | 'tls' | 'tcp' | 'unix';

/** Parameters each transport may carry, and the values each takes. */
const PARAMETERS: Record<string, { transports: Transport[]; value: RegExp; allowed: string }> = {
  keyfile: { transports: ['ssh', 'libssh', 'libssh2'], value: ABSOLUTE, allowed: 'an absolute path' },
  known_hosts: { transports: ['libssh', 'libssh2'], value: ABSOLUTE, allowed: 'an absolute path' },
  no_tty: { transports: ['ssh'], value: FLAG, allowed: '0 or 1' },
  sshauth: {
    transports: ['libssh', 'libssh2'],
    value: /^(?:agent|privkey|password|keyboard-interactive)(?:,(?:agent|privkey|password|keyboard-interactive))*$/,
    allowed: 'agent, privkey, password, keyboard-interactive, comma-separated',
  },
  mode: { transports: ['ssh', 'libssh', 'libssh2', 'unix', 'local'], value: /^(?:auto|direct)$/, allowed: 'auto or direct' },
  pkipath: { transports: ['tls'], value: ABSOLUTE, allowed: 'an absolute path' },
  tls_priority: { transports: ['tls'], value: /^[A-Za-z0-9:+.%-]{1,200}$/, allowed: 'a GnuTLS priority string' },
};

/** Every pattern this module applies to input, by name: the backtracking test runs each. */
export const LIBVIRT_URI_PATTERNS: Readonly<Record<string, RegExp>> = {
  uri: URI,
  local: LOCAL,
  scheme: SCHEME,
  host: HOST,
  ...Object.fromEntries(Object.entries(PARAMETERS).map(([name, rule]) => [`parameter ${name}`, rule.value])),
};

/** Why `uri` is refused, or undefined when it may be used. */
export function libvirtUriProblem(uri: string): string | undefined {
  const m = URI.exec(uri);
  if (!m) return 'not a libvirt QEMU URI of the form qemu[+transport]://[user@][host][:port]/system';
  const [, scheme = '', authority = '', , query] = m;
  const s = SCHEME.exec(scheme);
  if (!s) return `scheme ${shown(scheme, 40)} is not allowed; allowed: qemu, qemu+ssh, qemu+libssh, qemu+libssh2, qemu+tls, qemu+tcp, qemu+unix`;
  if (!HOST.test(authority)) return `${shown(authority, 80)} is not a host name or address (with optional user@ and :port)`;
  const transport = transportOf(s[1], authority);
  if ((transport === 'local' || transport === 'unix') && authority) return `a ${scheme} URI names no host`;
  if (query === undefined || query === '') return undefined;
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    const rule = PARAMETERS[name];
    if (!rule || !Object.hasOwn(PARAMETERS, name) || !rule.transports.includes(transport)) {
      const ok = Object.entries(PARAMETERS)
        .filter(([, r]) => r.transports.includes(transport))
        .map(([k]) => k);
      return `parameter ${shown(name, 40)} is not allowed for ${scheme}${ok.length ? `; allowed: ${ok.join(', ')}` : '; it takes none'}`;
    }
    if (!rule.value.test(value)) return `parameter ${name}=${shown(value, 80).slice(1, -1)}: must be ${rule.allowed}`;
  }
  return undefined;
}

function transportOf(suffix: string | undefined, authority: string): Transport {
  return (suffix as Transport | undefined) ?? (authority ? 'tls' : 'local');
}

/** The transport of a URI libvirtUriProblem accepted: the scheme's suffix, else tls with a host and local without. */
export function libvirtUriTransport(uri: string): Transport {
  const m = URI.exec(uri);
  if (!m) throw new Error(`not a libvirt URI: ${uri}`);
  return transportOf(SCHEME.exec(m[1]!)?.[1], m[2] ?? '');
}

/** True for a URI that reaches this machine's own libvirtd. */
export function isLocalUri(uri: string): boolean {
  return LOCAL.test(uri);
}
