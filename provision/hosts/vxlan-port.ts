// The VXLAN port of a testbed's bridge on one host (plan/vxlan.ts decides
// it): made after the host's network (whose bridge it joins) and removed
// before it. On this machine the commands run here; on a remote host over
// SSH to its pinned host key, as the user and key of its libvirt URI.
import { FollowmeError } from '../../common/errors.js';
import { runLocal } from '../../common/exec.js';
import { isLocalUri } from '../../common/input/libvirt-uri.js';
import { SshConnection, type SshTarget } from '../../common/ssh/transport.js';
import type { VxlanItem } from '../plan/types.js';

const STEP_TIMEOUT_MS = 30_000;
/** The all-zeros MAC: an FDB entry for it floods broadcast and unknown unicast to that remote (head-end replication). */
const FLOOD = '00:00:00:00:00:00';

/**
 * One shell script (its arguments after it) that makes the port, or finds it
 * made as planned: a device of that name with another VNI, port or local
 * address is someone else's, and refused.
 */
export function vxlanUpScript(v: VxlanItem): string[] {
  const script = [
    'set -eu',
    'dev=$1 vni=$2 port=$3 local=$4 bridge=$5 mtu=$6; shift 6',
    'if ip -d link show "$dev" >/dev/null 2>&1; then',
    '  ip -d link show "$dev" | grep -q "vxlan id $vni .*local $local .*dstport $port" || { echo "$dev exists with another VNI, port or local address" >&2; exit 3; }',
    '  made=adopted',
    'else',
    '  ip link add "$dev" type vxlan id "$vni" dstport "$port" local "$local" learning',
    '  made=created',
    'fi',
    // The flooding entries: one per other host, none for a host gone from the plan.
    'bridge fdb show dev "$dev" | awk \'$1 == "00:00:00:00:00:00" { print $3 }\' | while read -r old; do',
    '  keep=no; for r; do [ "$r" = "$old" ] && keep=yes; done',
    `  [ "$keep" = yes ] || bridge fdb del ${FLOOD} dev "$dev" dst "$old"`,
    'done',
    `for r; do bridge fdb append ${FLOOD} dev "$dev" dst "$r" 2>/dev/null || bridge fdb show dev "$dev" | grep -q "dst $r "; done`,
    'ip link set "$dev" mtu "$mtu" master "$bridge" up',
    'echo "$made"',
  ].join('\n');
  return ['sh', '-c', script, 'vxlan-up', v.name, String(v.vni), String(v.port), v.local, v.bridge, String(v.mtu), ...v.remotes];
}

/** Removes the port; absent is fine. Prints "removed" when it was there. */
export function vxlanDownScript(v: Pick<VxlanItem, 'name'>): string[] {
  return ['sh', '-c', 'if ip link show "$1" >/dev/null 2>&1; then ip link del "$1" && echo removed; fi', 'vxlan-down', v.name];
}

/** user@host:port and the key file of a remote libvirt URI (qemu+ssh://user@host:port/system?keyfile=…). */
export function sshTargetOfUri(uri: string, hostKey: string, host: string): SshTarget {
  const u = new URL(uri);
  const keyfile = u.searchParams.get('keyfile');
  return {
    node: host,
    host: u.hostname.replace(/^\[|\]$/g, ''),
    ...(u.port ? { port: Number(u.port) } : {}),
    user: decodeURIComponent(u.username) || 'root',
    privateKeyPath: keyfile ?? '/root/.ssh/id_ed25519',
    hostPublicKey: hostKey,
  };
}

/** Runs `argv` on the item's host; its stdout. */
async function onHost(v: VxlanItem, argv: string[]): Promise<string> {
  if (isLocalUri(v.uri)) return (await runLocal(argv, { timeoutMs: STEP_TIMEOUT_MS, host: v.host })).stdout;
  if (!v.hostKey) throw new FollowmeError(`host ${v.host} (${v.uri}): no pinned SSH host key`);
  return SshConnection.with(sshTargetOfUri(v.uri, v.hostKey, v.host), async (c) => {
    const r = await c.run(argv, { timeoutMs: STEP_TIMEOUT_MS });
    if (r.exitCode !== 0) throw new FollowmeError(`host ${v.host}: ${argv[3]} exited with ${r.exitCode}: ${r.stderr.trim()}`);
    return r.stdout;
  });
}

export async function ensureVxlanPort(v: VxlanItem): Promise<'created' | 'adopted'> {
  return (await onHost(v, vxlanUpScript(v))).trim().endsWith('adopted') ? 'adopted' : 'created';
}

export async function deleteVxlanPort(v: VxlanItem): Promise<boolean> {
  return (await onHost(v, vxlanDownScript(v))).includes('removed');
}
