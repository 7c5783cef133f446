// What `npm run bench -- strategies` prints and draws from its runs: per
// cell and strategy the medians with their 95 % CI and ratios, and, for the
// working-set plans, a chart of downtime against the working set. Also run
// on a finished or stopped bench's results directory
// (FOLLOWME_BENCH_FROM=DIR), so a long run is summarised without running it
// again.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { Plan } from '../../experiment/plan.js';
import { readManifest } from '../../experiment/manifest.js';
import { readRuns, type RunRecord } from '../../experiment/results.js';
import { renderSvg } from '../../experiment/report/charts.js';
import { summarize, type Summary } from '../../experiment/stats.js';
import { hasLazyWindow } from '../../migration/strategies/lazy-steps.js';
import { strategyNamed } from '../../migration/strategies/index.js';
import { lazyThroughput, type MemorySamples } from './memory-sampler.js';

/** A run, with the bench plan it belongs to and, in a lazy window, the memory workload's own throughput. */
export type PlanRun = RunRecord & { plan: string; throughput?: { ticks: number; dirtied: number } | undefined };

/** The replica each strategy is held against: the paper's tmpfs, and for the shared variant also the paper's shared. */
const REPLICA = 'tmpfs';
const SHARED_REPLICA: Record<string, string> = { sharedlean: 'shared' };
/** Plans whose memory workload differs only in its working set: drawn as downtime against it. */
export const WORKING_SET_PLAN = /^working-set-\d+$/;

const isLazy = (strategy: string) => hasLazyWindow(strategyNamed(strategy).outline(1));
const migrated = (r: RunRecord) => r.outcome === 'migrated' && !r.state.problem;

/** The memory workload's parameters in a run's plan: the run records do not carry them. */
function memoryParams(plans: readonly Plan[], r: PlanRun): { rateMBps: number; workingSetMB: number } | undefined {
  const w = plans.find((x) => x.name === r.plan)?.workloads.find((x) => x.name === 'memory');
  return w?.params as { rateMBps: number; workingSetMB: number } | undefined;
}

/** A memory cell says its plan's rate, working set and link. */
function cellOf(plans: readonly Plan[], r: PlanRun): string {
  const p = r.workload === 'memory' ? memoryParams(plans, r) : undefined;
  return p ? `memory ${p.rateMBps} MB/s over ${p.workingSetMB} MB, ${r.profile}` : r.workload;
}

const ms = (x: number) => `${Math.round(x)}`;
const ci = (s: Summary) => (s.ci95 === null ? '' : ` ±${ms(s.ci95)}`);

/** One row per cell and strategy: figures, not assertions. */
export function strategiesRows(runs: readonly PlanRun[], plans: readonly Plan[]): Record<string, string> {
  const rows: Record<string, string> = {};
  const strategies = [...new Set(plans.flatMap((p) => p.strategies))];
  for (const cell of [...new Set(runs.map((r) => cellOf(plans, r)))]) {
    const byStrategy = new Map(strategies.map((st) => [st, runs.filter((r) => cellOf(plans, r) === cell && r.strategy === st)] as const));
    const downtimes = new Map(
      [...byStrategy].flatMap(([st, all]) => {
        const d = summarize(all.filter(migrated).flatMap((r) => r.migration?.downtimeMs ?? []));
        return d ? [[st, d] as const] : [];
      }),
    );
    // Against the replica, and a lazy strategy against the best pre-copy one of its cell.
    const bestPreCopy = [...downtimes].filter(([st]) => !isLazy(st)).sort((a, b) => a[1].median - b[1].median)[0]?.[0];
    for (const [strategy, all] of byStrategy) {
      if (!all.length) continue;
      const key = `${cell} · ${strategy}`;
      const down = downtimes.get(strategy);
      if (!down) {
        rows[key] = `no run migrated with its state intact (${all.map((r) => r.outcome).join(', ')})`;
        continue;
      }
      const ratios = [REPLICA, SHARED_REPLICA[strategy], isLazy(strategy) ? bestPreCopy : undefined]
        .filter((x, i, list): x is string => x !== undefined && x !== strategy && downtimes.has(x) && list.indexOf(x) === i)
        .map((x) => `${(down.median / downtimes.get(x)!.median).toFixed(2)}× ${x}`);
      const ok = all.filter(migrated);
      rows[key] = [`n ${ok.length}/${all.length}`, `downtime ${ms(down.median)}${ci(down)} ms${ratios.length ? ` (${ratios.join(', ')})` : ''}`, ...details(ok)]
        .filter(Boolean)
        .join(' · ');
    }
  }
  return rows;
}

/** Everything but the downtime, for one cell and strategy's migrated runs. */
function details(ok: readonly PlanRun[]): string[] {
  const of = (f: (r: PlanRun) => number | undefined) => summarize(ok.map(f).filter((v): v is number => v !== undefined));
  const service = of((r) => r.serviceDowntimeMs);
  const total = of((r) => r.migration?.totalMs)!;
  const pages = of((r) => (r.migration?.lazy ? undefined : r.migration?.lastDumpPagesWritten));
  const frozen = of((r) => {
    // A lazy dump's statistics do not time its freeze (see migrate.ts).
    const us = r.migration?.lazy ? undefined : r.migration?.iterations.find((i) => i.kind === 'dump')?.stats.frozenTimeUs;
    return us === undefined ? undefined : us / 1000;
  });
  const restore = of((r) => (r.migration?.restoreStats ? r.migration.restoreStats.restoreTimeUs / 1000 : undefined));
  const overhead = of((r) => (r.migration ? (100 * r.migration.engineOverheadMs) / r.migration.totalMs : undefined));
  const window = of((r) => r.migration?.lazy?.windowMs);
  const faults = of((r) => r.migration?.lazy?.faults);
  const lazyPages = of((r) => r.migration?.lazy?.pagesLazy);
  const ticks = of((r) => r.throughput?.ticks);
  const dirtied = of((r) => r.throughput?.dirtied);
  const stops = ok.flatMap((r) => r.migration?.phases.find((p) => p.kind === 'final-dump')?.decision?.rule ?? []);
  const rounds = ok.map((r) => r.migration?.phases.filter((p) => p.kind === 'pre-dump').length ?? 0);
  return [
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
  ];
}

/** Downtime against the working set, one line per strategy: medians, with each run's range. */
export function workingSetSpec(runs: readonly PlanRun[], plans: readonly Plan[]): TopLevelSpec | undefined {
  const values: { strategy: string; workingSetMB: number; median: number; min: number; max: number; n: number }[] = [];
  const sets = runs.filter((r) => WORKING_SET_PLAN.test(r.plan) && migrated(r));
  // One line per strategy, and per link too when the plans differ in it: a line never joins two links.
  const profiles = [...new Set(sets.map((r) => r.profile))];
  const series = (r: PlanRun) => (profiles.length > 1 ? `${r.strategy} (${r.profile})` : r.strategy);
  for (const line of [...new Set(sets.map(series))]) {
    for (const mb of [...new Set(sets.map((r) => memoryParams(plans, r)?.workingSetMB))]) {
      const ofLine = sets.filter((r) => series(r) === line && memoryParams(plans, r)?.workingSetMB === mb);
      const s = summarize(ofLine.map((r) => r.migration!.downtimeMs! / 1000));
      if (s && mb !== undefined) values.push({ strategy: line, workingSetMB: mb, median: s.median, min: s.min, max: s.max, n: s.n });
    }
  }
  if (values.length === 0) return undefined;
  const rate = memoryParams(plans, sets[0]!)?.rateMBps;
  const x = { field: 'workingSetMB', type: 'quantitative' as const, title: 'working set (MB, log scale)', scale: { type: 'log' as const, base: 2 } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Downtime against the working set: memory workload at ${rate} MB/s, median and range of the runs (${profiles.join(', ')})`,
    data: { values },
    width: 420,
    height: 280,
    encoding: { x, color: { field: 'strategy', type: 'nominal', title: 'strategy', legend: { labelLimit: 320 } } },
    layer: [
      { mark: { type: 'line', point: true }, encoding: { y: { field: 'median', type: 'quantitative', title: 'downtime (s)' } } },
      { mark: { type: 'rule' }, encoding: { y: { field: 'min', type: 'quantitative' }, y2: { field: 'max' } } },
    ],
  };
}

/** The rows, and the working-set chart written to DIR/working-set.svg when there is one. */
export async function summarizeBench(dir: string, runs: readonly PlanRun[], plans: readonly Plan[]): Promise<Record<string, string>> {
  const rows = strategiesRows(runs, plans);
  const spec = workingSetSpec(runs, plans);
  if (spec) {
    const file = join(dir, 'working-set.svg');
    writeFileSync(file, await renderSvg(spec));
    rows['chart'] = `${file}: downtime against the working set`;
  }
  rows['results'] = `${dir} (one results directory per plan: \`followme report DIR\` charts them)`;
  return rows;
}

/** Where a plan's memory samples are kept beside its results. */
export const samplesFile = (dir: string, plan: string) => join(dir, `${plan}.memory-samples.json`);

/** A bench results directory read back: each plan's results directory (its manifest holds the plan), its runs, and its memory samples where kept. */
export function readBenchDir(dir: string): { plans: Plan[]; runs: PlanRun[] } {
  const plans = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) => readManifest(join(dir, d.name), 'FOLLOWME_BENCH_FROM')?.plan ?? []);
  const runs = plans.flatMap((plan) => {
    const file = samplesFile(dir, plan.name);
    const samples: MemorySamples | undefined = existsSync(file) ? new Map(Object.entries(JSON.parse(readFileSync(file, 'utf8')))) : undefined;
    return readRuns(join(dir, plan.name)).runs.map((run) => ({ ...run, plan: plan.name, ...(samples ? { throughput: lazyThroughput(run, samples) } : {}) }));
  });
  return { plans, runs };
}
