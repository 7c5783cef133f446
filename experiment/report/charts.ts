// The report's charts: vega-lite specs rendered to SVG in Node (vega's
// headless view; no browser, no canvas). Each chart is made from the
// summary entries alone. Error bars are clipped at 0: with two runs the
// t interval is wide, and a time is never negative.
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { strategyNames } from '../../migration/strategies/index.js';
import { entry, type SummaryEntry } from './table.js';

export interface Chart {
  file: string;
  title: string;
  svg: string;
}

type Group = { profile: string; workload: string; strategy: string };

const ordinal = (i: number) => (i === 1 ? '1st' : i === 2 ? '2nd' : i === 3 ? '3rd' : `${i}th`);

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The paper's Fig. 4–6: for one strategy, each iteration's time split into dump, copy and restore (means), per workload. */
export function phaseBreakdownSpec(
  entries: readonly SummaryEntry[],
  profile: string,
  strategy: string,
  workloads: readonly string[],
): TopLevelSpec | undefined {
  const values: { workload: string; iteration: string; order: number; part: string; ms: number; sd: number }[] = [];
  for (const workload of workloads) {
    const g: Group = { profile, workload, strategy };
    const add = (metric: string, iteration: string, order: number, part: string) => {
      const e = entry(entries, g, metric);
      if (e) values.push({ workload, iteration, order, part, ms: e.mean, sd: e.sd ?? 0 });
    };
    for (let i = 1; i <= 20; i++) {
      add(`pre_dump_${i}_ms`, `${ordinal(i)} iteration`, i, 'dump / pre-dump');
      add(`pre_dump_copy_${i}_ms`, `${ordinal(i)} iteration`, i, 'copy');
    }
    add('final_dump_ms', 'final iteration', 100, 'dump / pre-dump');
    add('final_copy_ms', 'final iteration', 100, 'copy');
    add('restore_ms', 'final iteration', 100, 'restore');
  }
  if (values.length === 0) return undefined;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${strategy}: time of each iteration by sub-phase (mean of the runs, ${profile})`,
    data: { values },
    facet: { column: { field: 'workload', type: 'nominal', title: null } },
    spec: {
      width: 260,
      height: 240,
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'iteration', type: 'ordinal', sort: { field: 'order' }, title: null, axis: { labelAngle: 0 } },
        y: { field: 'ms', type: 'quantitative', aggregate: 'sum', title: 'time (ms)' },
        color: { field: 'part', type: 'nominal', title: 'sub-phase', sort: ['dump / pre-dump', 'copy', 'restore'] },
        order: { field: 'part', sort: 'ascending' },
      },
    },
  };
}

/** The paper's Fig. 7: total migration time per strategy and workload, mean with the 95% CI of the mean. */
export function totalTimeSpec(entries: readonly SummaryEntry[], profile: string): TopLevelSpec | undefined {
  const values = entries
    .filter((e) => e.profile === profile && e.metric === 'total_ms')
    .map((e) => ({ strategy: e.strategy, workload: e.workload, mean: e.mean, lo: Math.max(0, e.mean - (e.ci95 ?? 0)), hi: e.mean + (e.ci95 ?? 0), n: e.n }));
  if (values.length === 0) return undefined;
  const x = { field: 'strategy', type: 'nominal' as const, title: null, sort: strategyNames(), axis: { labelAngle: 0 } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Total migration time Ψ, mean and 95% CI of the mean (${profile})`,
    width: 420,
    height: 260,
    data: { values },
    encoding: { x, xOffset: { field: 'workload', type: 'nominal' } },
    layer: [
      {
        mark: 'bar',
        encoding: { y: { field: 'mean', type: 'quantitative', title: 'total time (ms)' }, color: { field: 'workload', type: 'nominal' } },
      },
      { mark: { type: 'rule', color: 'black' }, encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
    ],
  };
}

/** The engine's downtime (freeze to running) beside the service downtime the probe saw, per strategy and workload. */
export function downtimeSpec(entries: readonly SummaryEntry[], profile: string): TopLevelSpec | undefined {
  const label: Record<string, string> = { downtime_ms: 'engine (freeze → running)', service_downtime_ms: 'service (probe: longest gap)' };
  const values = entries
    .filter((e) => e.profile === profile && (e.metric === 'downtime_ms' || e.metric === 'service_downtime_ms'))
    .map((e) => ({
      strategy: e.strategy,
      workload: e.workload,
      measure: label[e.metric]!,
      mean: e.mean,
      lo: Math.max(0, e.mean - (e.ci95 ?? 0)),
      hi: e.mean + (e.ci95 ?? 0),
    }));
  if (values.length === 0) return undefined;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Downtime: the engine's and the one a user of the service sees, mean and 95% CI (${profile})`,
    data: { values },
    facet: { column: { field: 'workload', type: 'nominal', title: null } },
    spec: {
      width: 260,
      height: 240,
      encoding: {
        x: { field: 'strategy', type: 'nominal', title: null, sort: strategyNames(), axis: { labelAngle: 0 } },
        xOffset: { field: 'measure', type: 'nominal' },
      },
      layer: [
        {
          mark: 'bar',
          encoding: {
            y: { field: 'mean', type: 'quantitative', title: 'downtime (ms)' },
            color: { field: 'measure', type: 'nominal', title: null, legend: { labelLimit: 320, orient: 'bottom' } },
          },
        },
        { mark: { type: 'rule', color: 'black' }, encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
      ],
    },
  };
}

/**
 * Each strategy's final iteration, side by side: the final dump before the
 * freeze and while frozen (CRIU's frozen_time), the final copy, the
 * restore (means). The downtime is the last three.
 */
export function finalIterationSpec(
  entries: readonly SummaryEntry[],
  profile: string,
  strategies: readonly string[],
  workloads: readonly string[],
): TopLevelSpec | undefined {
  const parts = ['dump, before the freeze', 'dump, frozen', 'final copy', 'restore'];
  const values: { workload: string; strategy: string; part: string; order: number; ms: number }[] = [];
  for (const workload of workloads) {
    for (const strategy of strategies) {
      const mean = (metric: string) => entry(entries, { profile, workload, strategy }, metric)?.mean;
      const dump = mean('final_dump_ms');
      if (dump === undefined) continue;
      const frozen = Math.min(mean('final_frozen_ms') ?? 0, dump);
      const ms = [dump - frozen, frozen, mean('final_copy_ms') ?? 0, mean('restore_ms') ?? 0];
      for (const [i, v] of ms.entries()) values.push({ workload, strategy, part: parts[i]!, order: i, ms: v });
    }
  }
  if (values.length === 0) return undefined;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `The final iteration of each strategy: dump, copy, restore (mean of the runs, ${profile})`,
    data: { values },
    facet: { column: { field: 'workload', type: 'nominal', title: null } },
    spec: {
      width: 60 * Math.max(2, strategies.length),
      height: 240,
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'strategy', type: 'nominal', title: null, sort: [...strategies], axis: { labelAngle: 0 } },
        y: { field: 'ms', type: 'quantitative', aggregate: 'sum', title: 'time (ms)' },
        color: { field: 'part', type: 'nominal', title: null, sort: parts, legend: { orient: 'bottom' } },
        order: { field: 'order', sort: 'ascending' },
      },
    },
  };
}

/** Every chart of the report, per profile. */
export async function reportCharts(entries: readonly SummaryEntry[]): Promise<Chart[]> {
  const profiles = [...new Set(entries.map((e) => e.profile))];
  const workloads = [...new Set(entries.map((e) => e.workload))];
  const strategies = strategyNames().filter((s) => entries.some((e) => e.strategy === s));
  const charts: Chart[] = [];
  const add = async (file: string, spec: TopLevelSpec | undefined) => {
    if (spec) charts.push({ file, title: String(spec.title ?? file), svg: await renderSvg(spec) });
  };
  for (const profile of profiles) {
    for (const s of strategies) await add(`phases-${s}-${profile}.svg`, phaseBreakdownSpec(entries, profile, s, workloads));
    await add(`total-time-${profile}.svg`, totalTimeSpec(entries, profile));
    await add(`downtime-${profile}.svg`, downtimeSpec(entries, profile));
    await add(`final-iteration-${profile}.svg`, finalIterationSpec(entries, profile, strategies, workloads));
  }
  return charts;
}
