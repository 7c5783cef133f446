// The sandboxed half of `npm run bench -- engine` (see engine.ts). Progress
// on stderr; the rows as one JSON line on stdout.
import { down, up } from '../../provision/testbed/runner.js';
import { loadStack, stackConfigPath } from '../../provision/topology/stack-config.js';
import { deployShowcase, removeShowcase, runMoves, showcaseMoves } from '../../experiment/showcase.js';
import type { MigrationRecord } from '../../migration/record/schema.js';
import { strategyNames } from '../../migration/strategies/index.js';

const REPS = Number(process.env['FOLLOWME_BENCH_REPS'] ?? 3);
const log = (l: string) => process.stderr.write(`  · ${l}\n`);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

const stack = 'three-vm-nfs';
const topology = loadStack(stack);
const rows: Record<string, string> = {};
let records: MigrationRecord[] = [];
try {
  const r = await up({ topology, source: stackConfigPath(stack), stack, log });
  await deployShowcase(r.inventory, log);
  records = await runMoves(r.inventory, showcaseMoves(r.inventory, REPS), { log });
  await removeShowcase(r.inventory);
} finally {
  await down(topology, log);
}

rows['runs'] = `${REPS} per strategy, blank container, 2 pre-dumps, TCG guests`;
for (const strategy of strategyNames()) {
  const all = records.filter((r) => r.strategy === strategy);
  const rs = all.filter((r) => r.outcome === 'migrated');
  if (all.length > rs.length)
    rows[`${strategy}: failed and rolled back`] = `${all.length - rs.length} of ${all.length}: ${all
      .filter((r) => r.error)
      .map((r) => r.error!.message.split('\n')[0])
      .join(' | ')}`;
  if (!rs.length) continue;
  const overhead = rs.map((r) => r.engineOverheadMs);
  const share = rs.map((r) => (100 * r.engineOverheadMs) / r.totalMs);
  // Where the overhead goes: SSH and the remote shell around each command, and the engine between commands.
  const transport = rs.map((r) => sum(r.phases.flatMap((p) => p.commands.map((c) => c.wallMs - c.remoteMs))));
  const between = rs.map((r) => sum(r.phases.map((p) => p.durationMs - sum(p.commands.map((c) => c.wallMs)))));
  const commands = rs.map((r) => r.phases.reduce((n, p) => n + p.commands.length, 0));
  const criu = rs.map((r) =>
    sum(r.phases.flatMap((p) => p.commands.filter((c) => c.kind?.startsWith('criu-') || c.kind === 'lxc-restore').map((c) => c.remoteMs))),
  );
  const rsync = rs.map((r) => sum(r.phases.flatMap((p) => p.commands.filter((c) => c.kind?.startsWith('rsync-')).map((c) => c.remoteMs))));
  const ok = (c: boolean) => (c ? 'met' : 'NOT met');
  rows[`${strategy}: total Ψ (mean)`] = `${(mean(rs.map((r) => r.totalMs)) / 1000).toFixed(2)} s`;
  rows[`${strategy}: downtime (mean)`] =
    `${mean(rs.map((r) => r.downtimeMs ?? 0)).toFixed(0)} ms (remote commands in that window ${mean(rs.map((r) => r.downtimeRemoteMs ?? 0)).toFixed(0)} ms)`;
  rows[`${strategy}: raw command time (mean)`] =
    `${(mean(rs.map((r) => r.remoteCommandMs)) / 1000).toFixed(2)} s (CRIU + lxc-checkpoint ${(mean(criu) / 1000).toFixed(2)} s, rsync ${(mean(rsync) / 1000).toFixed(2)} s)`;
  rows[`${strategy}: engine overhead (mean, max)`] =
    `${mean(overhead).toFixed(1)} ms, ${Math.max(...overhead).toFixed(1)} ms = ${mean(share).toFixed(2)}% of Ψ (target < 5%: ${ok(Math.max(...share) < 5)}; < 50 ms: ${ok(Math.max(...overhead) < 50)})`;
  rows[`${strategy}: overhead split`] =
    `transport ${mean(transport).toFixed(1)} ms over ${mean(commands).toFixed(0)} commands (${(mean(transport) / mean(commands)).toFixed(1)} ms each), engine between commands ${mean(between).toFixed(1)} ms`;
}
rows['controller peak memory (RSS)'] = `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`;
process.stdout.write(`${JSON.stringify(rows)}\n`);
