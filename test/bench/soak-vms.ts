// The sandboxed half of `npm run bench -- soak` (see soak.ts). Progress on
// stderr; the rows as one JSON line on stdout.
import { readdirSync } from 'node:fs';
import type { Inventory } from '../../common/inventory.js';
import { SshConnection } from '../../common/ssh/transport.js';
import { sshTarget } from '../../common/ssh/target.js';
import { deployShowcase, removeShowcase, runMoves, showcaseMoves } from '../../experiment/showcase.js';
import { down, up } from '../../provision/testbed/runner.js';
import { loadStack, stackConfigPath } from '../../provision/topology/stack-config.js';

const MIGRATIONS = Number(process.env['FOLLOWME_SOAK_MIGRATIONS'] ?? 100);
/** Heap growth allowed after a full GC: V8 keeps compiled code and caches that grow with the first runs, not with their number. */
const HEAP_TOLERANCE_MB = 8;
const log = (l: string) => process.stderr.write(`  · ${l}\n`);

// Everything a migration could leave behind on an edge, as one number each.
const EDGE_COUNTS = [
  // Kernel threads (children of kthreadd) come and go by themselves: user-space processes only.
  ['processes', 'ps --ppid 2 -p 2 --deselect --no-headers | wc -l'],
  ['listening TCP ports', 'ss -ltnH | wc -l'],
  ['LXC containers', 'lxc-ls -1 | wc -l'],
  ['work directories', 'ls -A /tmp/followme-migrations 2>/dev/null | wc -l'],
  ['tmpfs /tmp used (KiB)', 'df --output=used /tmp | tail -1'],
  ['/var/lib/lxc used (KiB)', 'du -s -x /var/lib/lxc | cut -f1'],
  ['mounts', 'findmnt -n | wc -l'],
  // Bracketed, so the pattern does not find this very shell.
  ['rsync daemons and page servers', 'pgrep -c -f "[r]sync --daemon|[c]riu page-server" || true'],
  [
    "CRIU's network-lock rules (host and containers)",
    'n=0; for p in 1 $(for c in $(lxc-ls --running -1); do lxc-info -n "$c" -p -H; done); do c=$( { nsenter -t "$p" -n iptables-save 2>/dev/null; nsenter -t "$p" -n nft list tables 2>/dev/null; } | grep -c CRIU); n=$((n + c)); done; echo $n',
  ],
  ['frozen cgroups', 'grep -l "^frozen 1" /sys/fs/cgroup/lxc.payload.*/cgroup.events 2>/dev/null | wc -l'],
] as const;

const NFS_COUNTS = [
  ['share used (KiB)', (exp: string) => `du -s -x ${exp} | cut -f1`],
  ['migrations on the share', (exp: string) => `ls -A ${exp}/migrations 2>/dev/null | wc -l`],
] as const;

async function counts(inv: Inventory): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const n of inv.nodes) {
    await SshConnection.with(sshTarget(inv, n), async (c) => {
      const list: [string, string][] = n.role === 'edge' ? EDGE_COUNTS.map(([k, cmd]) => [k, cmd]) : NFS_COUNTS.map(([k, cmd]) => [k, cmd(inv.nfs!.export)]);
      for (const [what, cmd] of list) {
        const r = await c.check(['sh', '-c', cmd]);
        out[`${n.name}: ${what}`] = Number(r.stdout.trim().split('\n').pop());
      }
    });
  }
  (globalThis as { gc?: () => void }).gc?.();
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  out['controller: open sockets and handles'] = handles.length;
  out['controller: open file descriptors'] = readdirSync('/proc/self/fd').length;
  out['controller: heap used after GC (MB)'] = Math.round(process.memoryUsage().heapUsed / 2 ** 20);
  return out;
}

const stack = 'three-vm-nfs';
const topology = loadStack(stack);
const rows: Record<string, string> = {};
try {
  const r = await up({ topology, source: stackConfigPath(stack), stack, log });
  await deployShowcase(r.inventory, log);
  // A round moves the local container twice (tmpfs, diskless) and the shared one once: an even number of rounds ends where it began.
  const perRound = showcaseMoves(r.inventory, 1).length;
  const rounds = 2 * Math.ceil(MIGRATIONS / perRound / 2);
  // One round first, so what is made once (caches, connections' first use) is in the "before".
  await runMoves(r.inventory, showcaseMoves(r.inventory, 2), { log });
  const before = await counts(r.inventory);
  const started = Date.now();
  const records = await runMoves(r.inventory, showcaseMoves(r.inventory, rounds), { log });
  const minutes = (Date.now() - started) / 60_000;
  const after = await counts(r.inventory);
  await removeShowcase(r.inventory);
  const migrated = records.filter((x) => x.outcome === 'migrated').length;
  rows['migrations'] =
    `${records.length} (${migrated} migrated, ${records.length - migrated} rolled back) in ${minutes.toFixed(1)} min, blank containers, 2 pre-dumps, TCG guests`;
  let unequal = 0;
  for (const [what, b] of Object.entries(before)) {
    const a = after[what]!;
    const heap = what.includes('heap');
    const ok = heap ? a - b <= HEAP_TOLERANCE_MB : a === b;
    if (!ok) unequal++;
    rows[what] = `${b} → ${a}${ok ? '' : '   CHANGED'}${heap ? ` (tolerance +${HEAP_TOLERANCE_MB} MB)` : ''}`;
  }
  rows['verdict'] = unequal === 0 ? 'every count equal after as before' : `${unequal} count(s) changed`;
} finally {
  await down(topology, log);
}
process.stdout.write(`${JSON.stringify(rows)}\n`);
