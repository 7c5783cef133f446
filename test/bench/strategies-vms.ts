// The sandboxed half of `npm run bench -- strategies` (see strategies.ts).
// Experiments on one three-vm-nfs testbed, run by the experiment runner (so
// the probe, the workload's client and its state check are the report's):
// every strategy on blank, video and the memory workload at a low dirty
// rate over gigabit; the replica, adaptive and lean on the memory workload
// at a rate above the link, over fast ethernet; and the working-set pair
// (issue #23): the memory workload at the high rate over 16 MB and 256 MB,
// over fast ethernet (the rate above the link), pre-copy beside the lazy
// strategies, for downtime against the working set. Each runs its strategies in turn, repetition by repetition.
// FOLLOWME_BENCH_PLANS picks plans by name (default: all). Progress on
// stderr; the rows as one JSON line on stdout.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolvePlan } from '../../experiment/plan.js';
import { runExperiment } from '../../experiment/runner.js';
import { lazyThroughput, sampleMemory } from './memory-sampler.js';
import { type PlanRun, samplesFile, summarizeBench, WORKING_SET_PLAN } from './strategies-summary.js';
import { down, up } from '../../provision/testbed/runner.js';
import { loadStack, stackConfigPath } from '../../provision/topology/stack-config.js';

const REPS = Number(process.env['FOLLOWME_BENCH_STRATEGY_REPS'] ?? 5);
const STRATEGIES = (process.env['FOLLOWME_BENCH_STRATEGIES'] ?? 'tmpfs,lean,adaptive,shared,sharedlean').split(',');
const HIGH_RATE_STRATEGIES = ['tmpfs', 'adaptive', 'lean'];
/** Pre-copy against post-copy over two working sets: does the downtime follow the working set? */
const WORKING_SET_STRATEGIES = (process.env['FOLLOWME_BENCH_WORKING_SET_STRATEGIES'] ?? 'tmpfs,adaptive,lean,postcopy,hybrid').split(',');
const WORKING_SETS_MB = [16, 256];
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
    // The rate above the link, as post-copy is for.
    profiles: ['fast-ethernet'],
  })),
]
  .filter((doc) => !PLANS || PLANS.includes(doc.name))
  .map((doc) => resolvePlan(doc, `bench plan ${doc.name}`));

const stack = 'three-vm-nfs';
/** Edges big enough that pre-copy's images of a 256 MB working set (three dumps of it with 2 pre-dumps) fit in their /tmp, half their memory. */
const EDGE_MIB = 3072;
const topology = { ...loadStack(stack), nodes: loadStack(stack).nodes.map((n) => (n.role === 'edge' ? { ...n, memoryMiB: EDGE_MIB } : n)) };
const runs: PlanRun[] = [];
const loadBefore = loadavg()[0]!;
const dir = mkdtempSync(join(tmpdir(), 'fm-bench-strategies-'));
try {
  const { inventory } = await up({ topology, source: stackConfigPath(stack), stack, log });
  for (const plan of plans) {
    const out = join(dir, plan.name);
    // The memory workload's own throughput, for the lazy window's price (memory-sampler.ts).
    const sampler = WORKING_SET_PLAN.test(plan.name) ? sampleMemory(inventory, 6 * 3600_000) : undefined;
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
    if (samples) writeFileSync(samplesFile(dir, plan.name), JSON.stringify(Object.fromEntries(samples)));
    runs.push(...r.runs.map((run) => ({ ...run, plan: plan.name, ...(samples ? { throughput: lazyThroughput(run, samples) } : {}) })));
  }
} finally {
  await down(topology, log);
}

const rows = {
  runs: `${REPS} per strategy and cell, alternating; three-vm-nfs with edges of ${EDGE_MIB} MiB, TCG guests; load average ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after (other work on this machine shows there)`,
  ...(await summarizeBench(dir, runs, plans)),
};
process.stdout.write(`${JSON.stringify(rows)}\n`);
