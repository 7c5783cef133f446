// The sandboxed half of `npm run bench -- strategies` (see strategies.ts).
// Experiments on one three-vm-nfs testbed, run by the experiment runner (so
// the probe, the workload's client and its state check are the report's):
// every strategy on blank, video and the memory workload at a low dirty
// rate over gigabit; the replica, adaptive and lean on the memory workload
// at a rate above the link, over fast ethernet; and the working-set pair
// (issue #23): the memory workload at the high rate over 16 MB and 256 MB,
// gigabit, pre-copy beside the lazy strategies, for downtime against the
// working set. Each runs its strategies in turn, repetition by repetition.
// FOLLOWME_BENCH_PLANS picks plans by name (default: all). Progress on
// stderr; the rows as one JSON line on stdout.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolvePlan } from '../../experiment/plan.js';
import { runExperiment } from '../../experiment/runner.js';
import type { RunRecord } from '../../experiment/results.js';
import { summarize, type Summary } from '../../experiment/stats.js';
import { lazyThroughput, sampleMemory } from './memory-sampler.js';
import { down, up } from '../../provision/testbed/runner.js';
import { loadStack, stackConfigPath } from '../../provision/topology/stack-config.js';

const REPS = Number(process.env['FOLLOWME_BENCH_STRATEGY_REPS'] ?? 5);
const STRATEGIES = (process.env['FOLLOWME_BENCH_STRATEGIES'] ?? 'tmpfs,lean,adaptive,shared,sharedlean').split(',');
const HIGH_RATE_STRATEGIES = ['tmpfs', 'adaptive', 'lean'];
/** Pre-copy against post-copy over two working sets: does the downtime follow the working set? */
const WORKING_SET_STRATEGIES = ['tmpfs', 'adaptive', 'lean', 'postcopy', 'hybrid'];
const PRE_COPY = ['tmpfs', 'adaptive', 'lean'];
const WORKING_SETS_MB = [16, 256];
/** The replica each strategy is held against: the paper's tmpfs, and for the shared variant also the paper's shared. */
const REPLICA = 'tmpfs';
const SHARED_REPLICA: Record<string, string> = { sharedlean: 'shared' };
/** MB/s the memory workload dirties: one pre-copy can converge on, one above fast ethernet's 12.5 MB/s. */
const LOW_RATE = 1;
const HIGH_RATE = 40;
const PLANS = process.env['FOLLOWME_BENCH_PLANS']?.split(',');
const t0 = Date.now();
const log = (l: string) => process.stderr.write(`  · [${((Date.now() - t0) / 1000).toFixed(0)}s] ${l}\n`);

const plans = [
  {
    planVersion: 1,
    name: 'strategies',
    repetitions: REPS,
    strategies: STRATEGIES,
    workloads: [{ name: 'blank' }, { name: 'video' }, { name: 'memory', params: { rateMBps: LOW_RATE, workingSetMB: 64 } }],
    profiles: ['gigabit'],
  },
  {
    planVersion: 1,
    name: 'strategies-high-rate',
    repetitions: REPS,
    strategies: HIGH_RATE_STRATEGIES,
    workloads: [{ name: 'memory', params: { rateMBps: HIGH_RATE, workingSetMB: 64 } }],
    profiles: ['fast-ethernet'],
  },
  // A plan lists a workload once: one plan per working set.
  ...WORKING_SETS_MB.map((mb) => ({
    planVersion: 1,
    name: `working-set-${mb}`,
    repetitions: REPS,
    predumps: 2,
    strategies: WORKING_SET_STRATEGIES,
    workloads: [{ name: 'memory', params: { rateMBps: HIGH_RATE, workingSetMB: mb } }],
    profiles: ['gigabit'],
  })),
]
  .filter((doc) => !PLANS || PLANS.includes(doc.name))
  .map((doc) => resolvePlan(doc, `bench plan ${doc.name}`));

const stack = 'three-vm-nfs';
const topology = loadStack(stack);
type PlanRun = RunRecord & { plan: string; throughput?: { ticks: number; dirtied: number } | undefined };
const runs: PlanRun[] = [];
const loadBefore = loadavg()[0]!;
const dir = mkdtempSync(join(tmpdir(), 'fm-bench-strategies-'));
try {
  const { inventory } = await up({ topology, source: stackConfigPath(stack), stack, log });
  for (const plan of plans) {
    const out = join(dir, plan.name);
    // The memory workload's own throughput, for the lazy window's price (memory-sampler.ts).
    const sampler = plan.name.startsWith('working-set') ? sampleMemory(inventory, 6 * 3600_000) : undefined;
    const planFile = join(dir, `${plan.name}.json`);
    writeFileSync(planFile, JSON.stringify(plan));
    const r = await runExperiment({
      plan,
      planFile,
      inventory,
      out,
      stack,
      log,
      onProgress: (p) => p.last && log(`${p.done}/${p.total} ${p.last.key}: ${p.last.outcome}, downtime ${p.last.migration?.downtimeMs?.toFixed(0) ?? '–'} ms`),
    });
    const samples = sampler?.stop();
    runs.push(...r.runs.map((run) => ({ ...run, plan: plan.name, ...(samples ? { throughput: lazyThroughput(run, samples) } : {}) })));
  }
} finally {
  await down(topology, log);
}

const ms = (x: number) => `${Math.round(x)}`;
const ci = (s: Summary) => (s.ci95 === null ? '' : ` ±${ms(s.ci95)}`);
/** A memory cell says its plan's rate, working set and link: the run records do not carry a workload's parameters. */
const cellOf = (r: PlanRun) => {
  if (r.workload !== 'memory') return r.workload;
  const p = plans.find((x) => x.name === r.plan)!.workloads.find((w) => w.name === 'memory')!.params as { rateMBps: number; workingSetMB: number };
  return `memory ${p.rateMBps} MB/s over ${p.workingSetMB} MB, ${r.profile}`;
};
const migrated = (r: RunRecord) => r.outcome === 'migrated' && !r.state.problem;
const rows: Record<string, string> = {};
rows['runs'] =
  `${REPS} per strategy and cell, alternating; three-vm-nfs, TCG guests; load average ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after (other work on this machine shows there)`;
const cells = [...new Set(runs.map(cellOf))];
const allStrategies = [...new Set([...STRATEGIES, ...HIGH_RATE_STRATEGIES, ...WORKING_SET_STRATEGIES])];
for (const cell of cells) {
  const medians = new Map<string, number>();
  for (const strategy of allStrategies) {
    const all = runs.filter((r) => cellOf(r) === cell && r.strategy === strategy);
    if (!all.length) continue;
    const ok = all.filter(migrated);
    const key = `${cell} · ${strategy}`;
    if (!ok.length) {
      rows[key] = `no run migrated with its state intact (${all.map((r) => r.outcome).join(', ')})`;
      continue;
    }
    const of = (f: (r: PlanRun) => number | undefined) => summarize(ok.map(f).filter((v): v is number => v !== undefined));
    const down = of((r) => r.migration?.downtimeMs)!;
    const service = of((r) => r.serviceDowntimeMs);
    const total = of((r) => r.migration?.totalMs)!;
    const pages = of((r) => r.migration?.lastDumpPagesWritten);
    const frozen = of((r) => {
      const us = r.migration?.iterations.find((i) => i.kind === 'dump')?.stats.frozenTimeUs;
      return us === undefined ? undefined : us / 1000;
    });
    const restore = of((r) => (r.migration?.restoreStats ? r.migration.restoreStats.restoreTimeUs / 1000 : undefined));
    const overhead = of((r) => (r.migration ? (100 * r.migration.engineOverheadMs) / r.migration.totalMs : undefined));
    medians.set(strategy, down.median);
    // Against the replica, and a lazy strategy against the best pre-copy one of its cell.
    const bestPreCopy = PRE_COPY.filter((x) => medians.has(x)).sort((a, b) => medians.get(a)! - medians.get(b)!)[0];
    const lazyStrategy = ok.some((r) => r.migration?.lazy);
    const ratios = [REPLICA, SHARED_REPLICA[strategy], lazyStrategy ? bestPreCopy : undefined]
      .filter((x, i, all): x is string => x !== undefined && x !== strategy && medians.has(x) && all.indexOf(x) === i)
      .map((x) => `${(down.median / medians.get(x)!).toFixed(2)}× ${x}`);
    const window = of((r) => r.migration?.lazy?.windowMs);
    const faults = of((r) => r.migration?.lazy?.faults);
    const lazyPages = of((r) => r.migration?.lazy?.pagesLazy);
    const ticks = of((r) => r.throughput?.ticks);
    const dirtied = of((r) => r.throughput?.dirtied);
    const ratio = ratios.length ? ` (${ratios.join(', ')})` : '';
    const stops = ok.flatMap((r) => r.migration?.phases.find((p) => p.kind === 'final-dump')?.decision?.rule ?? []);
    const rounds = ok.map((r) => r.migration?.phases.filter((p) => p.kind === 'pre-dump').length ?? 0);
    rows[key] = [
      `n ${ok.length}/${all.length}`,
      `downtime ${ms(down.median)}${ci(down)} ms${ratio}`,
      service ? `service ${ms(service.median)}${ci(service)} ms` : 'service –',
      `Ψ ${(total.median / 1000).toFixed(1)} s`,
      pages ? `last-dump pages ${ms(pages.median)}${ci(pages)}` : '',
      frozen ? `CRIU frozen ${ms(frozen.median)} ms` : '',
      restore ? `CRIU restore ${ms(restore.median)} ms` : '',
      overhead ? `overhead ${overhead.median.toFixed(1)} % of Ψ` : '',
      stops.length ? `rounds ${rounds.join('/')}, stopped by ${[...new Set(stops)].join(', ')}` : '',
      window ? `lazy window ${(window.median / 1000).toFixed(1)}${window.ci95 === null ? '' : ` ±${(window.ci95 / 1000).toFixed(1)}`} s` : '',
      lazyPages ? `lazy pages ${ms(lazyPages.median)}` : '',
      faults ? `faults ${ms(faults.median)}` : '',
      ticks && dirtied
        ? `in the window ${(100 * ticks.median).toFixed(0)} % of the ticks/s and ${(100 * dirtied.median).toFixed(0)} % of the pages dirtied/s before the move`
        : '',
    ]
      .filter(Boolean)
      .join(' · ');
  }
}
rows['results'] = `${dir} (one results directory per plan: \`followme report DIR\` charts them)`;
process.stdout.write(`${JSON.stringify(rows)}\n`);
