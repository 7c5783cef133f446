// The strategies bench's summary from run records: each cell's median
// downtime and its ratios (to the replica, and a lazy strategy's to the best
// pre-copy one of its cell), and the working-set chart's points.
import { describe, expect, it } from 'vitest';
import { resolvePlan } from '../../experiment/plan.js';
import { type PlanRun, strategiesRows, workingSetSpec } from '../bench/strategies-summary.js';
import { record } from './fixtures-record.js';

const plans = [16, 256].map((mb) =>
  resolvePlan({
    planVersion: 1,
    name: `working-set-${mb}`,
    repetitions: 3,
    strategies: ['tmpfs', 'lean', 'postcopy'],
    workloads: [{ name: 'memory', params: { rateMBps: 40, workingSetMB: mb } }],
    profiles: ['gigabit'],
  }),
);

function run(plan: string, strategy: string, downtimeMs: number, outcome: 'migrated' | 'failed' = 'migrated'): PlanRun {
  return {
    plan,
    strategy,
    workload: 'memory',
    profile: 'gigabit',
    outcome,
    state: { before: '1' },
    migration: record({ strategy, downtimeMs, outcome }),
  } as unknown as PlanRun;
}

const runs = [
  ...[5000, 5200, 5400].map((d) => run('working-set-16', 'tmpfs', d)),
  ...[3000, 3100, 3200].map((d) => run('working-set-16', 'lean', d)),
  ...[2000, 2100, 2200].map((d) => run('working-set-16', 'postcopy', d)),
  ...[20000, 21000, 22000].map((d) => run('working-set-256', 'tmpfs', d)),
  ...[12000, 12500, 13000].map((d) => run('working-set-256', 'lean', d)),
  ...[2400, 2500].map((d) => run('working-set-256', 'postcopy', d)),
  run('working-set-256', 'postcopy', 900, 'failed'),
];

describe('the strategies bench summary', () => {
  it('gives each cell its medians, a lazy strategy its ratio to the best pre-copy one, and counts the runs that did not migrate', () => {
    const rows = strategiesRows(runs, plans);
    expect(rows['memory 40 MB/s over 16 MB, gigabit · lean']).toMatch(/^n 3\/3 · downtime 3100 ±\d+ ms \(0\.60× tmpfs\)/);
    expect(rows['memory 40 MB/s over 256 MB, gigabit · postcopy']).toMatch(/^n 2\/3 · downtime 2450 ±\d+ ms \(0\.12× tmpfs, 0\.20× lean\)/);
  });

  it('draws downtime against the working set from the medians of the migrated runs, in seconds', () => {
    const spec = workingSetSpec(runs, plans) as { data: { values: { strategy: string; workingSetMB: number; median: number; n: number }[] } };
    const point = (s: string, mb: number) => spec.data.values.find((v) => v.strategy === s && v.workingSetMB === mb);
    expect(spec.data.values).toHaveLength(6);
    expect(point('postcopy', 256)).toMatchObject({ median: 2.45, n: 2 });
    expect(point('tmpfs', 16)).toMatchObject({ median: 5.2, n: 3 });
  });
});
