// libvirt's ssh transport (qemu+ssh) runs the `ssh` it finds on PATH, which
// checks host keys against the user's own known_hosts. followme pins each
// remote host's key from the stack config instead: virsh for a remote URI
// runs with a wrapper first on PATH that hands ssh a known_hosts file
// holding that key alone, and strict checking. The user's known_hosts is
// neither read nor written.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../common/errors.js';
import { stateDir } from '../../common/paths.js';
import { shellQuote } from '../../common/ssh/quote.js';
import { isLocalUri } from '../../common/input/libvirt-uri.js';
import type { Topology } from '../topology/schema.js';

const hostsDir = () => join(stateDir(), 'hosts');

/** Where the pinned key of the host behind `uri` is kept. */
export function knownHostsFileFor(uri: string): string {
  return join(hostsDir(), `${createHash('sha256').update(uri).digest('hex').slice(0, 16)}.known_hosts`);
}

/** The known_hosts line for `key` at the URI's host and port ([host]:port unless 22, as ssh looks it up). */
export function knownHostsLine(uri: string, key: string): string {
  const u = new URL(uri);
  const host = u.hostname;
  const name = u.port && u.port !== '22' ? `[${host.replace(/^\[|\]$/g, '')}]:${u.port}` : host;
  // The key's comment is left out: the line is the name, the type and the key.
  const [type, blob] = key.split(' ');
  return `${name} ${type} ${blob}\n`;
}

/** Writes the pinned key of the host behind `uri` (mode 0600, in a 0700 directory). */
export function pinHostKey(uri: string, key: string): void {
  mkdirSync(hostsDir(), { recursive: true, mode: 0o700 });
  writeFileSync(knownHostsFileFor(uri), knownHostsLine(uri, key), { mode: 0o600 });
}

/**
 * The ssh wrapper of one host: ssh with only the pinned file as known hosts,
 * strict checking, and no agent forwarding. The file's path is written into
 * it, as libvirt runs ssh with little of its environment (PATH, HOME, the
 * agent's socket); the wrapper's directory is first on PATH, so the real ssh
 * is found on the rest of it.
 */
function wrapper(knownHosts: string): string {
  return `#!/bin/sh
# followme: ssh for libvirt's qemu+ssh transport, checking the host key against the pinned file only.
[ -f ${shellQuote(knownHosts)} ] || { echo "followme ssh: no pinned host key file" >&2; exit 255; }
PATH=\${PATH#*:} exec ssh -o UserKnownHostsFile=${shellQuote(knownHosts)} -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o ForwardAgent=no "$@"
`;
}

/** The environment virsh needs for a remote URI: its host's wrapper first on PATH. */
export function pinnedSshEnv(uri: string): Record<string, string> {
  const file = knownHostsFileFor(uri);
  if (!existsSync(file)) throw new ConfigError(`${uri}: no pinned SSH host key for this host; name it in the stack config's hosts (sshHostKey)`, 'hosts');
  // One directory per host, named as its file (a hash of the URI); the file's path is quoted into the script.
  const bin = file.replace(/\.known_hosts$/, '.bin');
  mkdirSync(bin, { recursive: true, mode: 0o700 });
  writeFileSync(join(bin, 'ssh'), wrapper(file), { mode: 0o700 });
  chmodSync(join(bin, 'ssh'), 0o700);
  return { PATH: `${bin}:${process.env['PATH'] ?? '/usr/bin:/bin'}` };
}

/** Writes each remote host's pinned key where virsh's ssh reads it (hosts/pinned-ssh.ts): before anything asks a remote host. */
export function pinRemoteHosts(t: Pick<Topology, 'hosts'>): void {
  for (const h of t.hosts ?? []) if (!isLocalUri(h.libvirtUri) && h.sshHostKey) pinHostKey(h.libvirtUri, h.sshHostKey);
}
