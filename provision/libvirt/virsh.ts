// The one seam to libvirt: virsh, run with execa. Builds argv (never shell
// strings), bounds every call in time, and parses what virsh prints.
import pRetry from 'p-retry';
import { CommandError } from '../../common/errors.js';
import { runLocal } from '../../common/exec.js';
import { isLocalUri } from '../../common/input/libvirt-uri.js';
import { pinnedSshEnv } from '../hosts/pinned-ssh.js';

export const VIRSH_TIMEOUT_MS = 120_000;

export interface VirshResult {
  stdout: string;
  durationMs: number;
}

export function virshArgv(uri: string, args: readonly string[]): string[] {
  return ['-q', '-c', uri, ...args];
}

/** Runs `virsh -c uri args…`; throws CommandError on failure. A remote host is reached only at its pinned SSH key. */
export async function virsh(uri: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<VirshResult> {
  const run = () =>
    runLocal(['virsh', ...virshArgv(uri, args)], {
      timeoutMs: opts.timeoutMs ?? VIRSH_TIMEOUT_MS,
      host: uri,
      ...(isLocalUri(uri) ? {} : { env: pinnedSshEnv(uri) }),
      ...(opts.input !== undefined ? { input: opts.input } : {}),
    });
  if (isLocalUri(uri)) return run();
  // A remote host's sshd drops some of many connections opened at once (its MaxStartups): a connection refused that
  // way is tried again, twice; any other failure is virsh's answer.
  return pRetry(run, {
    retries: REMOTE_CONNECT_RETRIES,
    minTimeout: 500,
    shouldRetry: ({ error }) =>
      error instanceof CommandError && /failed to connect to the hypervisor/.test(error.stderr) && !/Host key verification failed/.test(error.stderr),
  });
}

const REMOTE_CONNECT_RETRIES = 2;

/** True when virsh failed because the object does not exist. */
export function isNotFound(e: unknown): boolean {
  return (
    e instanceof CommandError &&
    /(failed to get|not found|no (storage vol|network|domain|storage pool) with matching|Storage (pool|volume) not found|Domain not found|Network not found)/i.test(
      e.stderr,
    )
  );
}

export function parseNameList(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

/** `virsh -q vol-list POOL` prints "name  path" rows. */
export function parseVolList(stdout: string): { name: string; path: string }[] {
  return parseNameList(stdout).map((l) => {
    const m = /^(\S+)\s+(\S.*)$/.exec(l);
    return m ? { name: m[1]!, path: m[2]!.trim() } : { name: l, path: '' };
  });
}

/** `virsh domstate NAME` → "running", "shut off", … */
export function parseDomState(stdout: string): string {
  return stdout.trim().split('\n')[0]?.trim() ?? '';
}

/** `virsh -q net-dhcp-leases NET` rows: expiry date, expiry time, MAC, proto, ip/prefix, hostname, client id. */
export function parseDhcpLeases(stdout: string): { mac: string; ip: string }[] {
  const out: { mac: string; ip: string }[] = [];
  for (const line of parseNameList(stdout)) {
    const cols = line.split(/\s+/);
    const mac = cols.find((c) => /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(c));
    const ip = cols.find((c) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(c));
    if (mac && ip) out.push({ mac: mac.toLowerCase(), ip: ip.split('/')[0]! });
  }
  return out;
}
