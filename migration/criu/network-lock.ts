// CRIU's network lock, removed where CRIU did not: a CRIU killed between its
// dump and its restore, or a lazy dump whose server failed (criu/lazy.ts),
// leaves the container's network namespace locked.
import { command } from '../edge-command.js';
import type { Edge } from '../edge.js';
import { lxc } from '../lxc/commands.js';

/** Removes CRIU's network lock in the namespace it runs in; prints what it removed, one line each. */
export const DROP_NETWORK_LOCK = [
  'for t in iptables ip6tables; do',
  '  command -v "$t" >/dev/null || continue',
  '  "$t" -w -S CRIU >/dev/null 2>&1 || continue',
  '  "$t" -w -D INPUT -j CRIU 2>/dev/null; "$t" -w -D OUTPUT -j CRIU 2>/dev/null',
  '  "$t" -w -F CRIU && "$t" -w -X CRIU && echo "$t"',
  'done',
  // CRIU 4 names its nftables table after the run that locked: inet CRIU-<run id>.
  'if command -v nft >/dev/null; then for t in $(nft list tables 2>/dev/null | sed -n "s/^table inet \\(CRIU[A-Za-z0-9-]*\\)$/\\1/p"); do nft delete table inet "$t" && echo "nftables $t"; done; fi',
  'exit 0',
].join('\n');

/**
 * CRIU locks the container's network while it dumps and unlocks it when the
 * dump fails or the restore ends; a CRIU killed in between leaves the lock
 * (an iptables chain named CRIU, or an nftables table inet CRIU-<run id>)
 * and the container cut off.
 * Returns what was removed, if anything.
 */
export async function dropNetworkLock(edge: Edge, container: string): Promise<string | undefined> {
  const pid = (await edge.exec(command('lxc-pid', lxc.pid(container)), { allowFailure: true })).stdout.trim();
  if (!/^\d+$/.test(pid)) return undefined;

  const r = await edge.exec(command('drop-network-lock', ['nsenter', '-t', pid, '-n', 'sh', '-c', DROP_NETWORK_LOCK]), { allowFailure: true });
  const removed = r.stdout.trim().split('\n').filter(Boolean);
  return removed.length ? removed.join(', ') : undefined;
}
