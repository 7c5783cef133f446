// The report of a trip run, from its results directory alone (manifest.json
// and trip.jsonl): per trace a timeline chart (the user's position and
// cell, the edge running the service, the emulated RTT, each handover),
// and per trip what the driver experienced (mobility/metrics.ts), with the
// emulation and the speed-up stated.
import { stringify } from 'csv-stringify/sync';
import type { TopLevelSpec } from 'vega-lite';
import { ConfigError } from '../common/errors.js';
import { type Chart, renderSvg } from '../experiment/report/charts.js';
import { type Block, toHtml, toMarkdown } from '../experiment/report/document.js';
import { prepareOutputDir, writeReportFile } from '../experiment/report/output.js';
import { type HandoverRecord as MetricHandover, type PolicyOutcome, type ProbeWindow, policyOutcome } from './metrics.js';
import { readTripManifest, type TripManifest } from './trip-manifest.js';
import { plannedTrips } from './trip-plan.js';
import { type FinishedTrip, readTrips, tripIntegrityNotes } from './trip-results.js';

export interface TripReportFiles {
  dir: string;
  files: string[];
  trips: number;
  integrity: string[];
}

const f1 = (x: number | null | undefined) => (x === null || x === undefined ? '–' : x.toFixed(1));
const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const mib = (b: number) => (b / 1024 ** 2).toFixed(1);

/** A trip's label in tables and charts: policy (strategy) #repetition. */
const labelOf = (t: FinishedTrip['trip']) => `${t.policy}${t.strategy === 'none' ? '' : ` (${t.strategy})`}${t.repetition > 1 ? ` #${t.repetition}` : ''}`;

export function tripOutcome(t: FinishedTrip): PolicyOutcome {
  const label = t.trip.key;
  const windows: ProbeWindow[] = t.windows.map((w) => ({
    policy: label,
    t0: w.t0,
    t1: w.t1,
    userCell: w.userCell,
    serviceEdge: w.serviceEdge,
    rttMs: w.rttMs,
    unavailableMs: w.unavailableMs,
  }));
  const handovers: MetricHandover[] = t.handovers.map((h) => ({
    policy: label,
    from: h.from,
    to: h.to,
    outcome: h.outcome,
    ...(h.migration?.downtimeMs !== undefined ? { downtimeMs: h.migration.downtimeMs } : {}),
    ...(h.migration ? { bytesMoved: h.migration.bytesMoved } : {}),
    ...(h.overrun ? { overrun: h.overrun } : {}),
  }));
  return policyOutcome(label, windows, handovers, t.trip.budgetMs);
}

/** The timeline of every trip of one trace, on one trip-time axis. */
export function timelineSpec(m: TripManifest, trace: string, trips: readonly FinishedTrip[]): TopLevelSpec | undefined {
  const mine = trips.filter((t) => t.trip.trace === trace);
  if (mine.length === 0) return undefined;
  const edgeOrder = m.road.cells.map((c) => c.edge);
  const position = mine[0]!.windows.map((w) => ({ t: w.t1, x: w.x, cell: w.userCell ?? '(none)' }));
  const service = mine.flatMap((t) => t.windows.map((w) => ({ trip: labelOf(t.trip), t: w.t0, edge: w.serviceEdge, rtt: w.rttMs })));
  const moves = mine.flatMap((t) =>
    t.handovers.map((h) => ({
      trip: labelOf(t.trip),
      start: h.startT,
      end: h.endT,
      outcome: h.outcome,
      text: `${h.to}: ${(h.serviceDowntimeMs / 1000).toFixed(1)} s`,
    })),
  );
  const budget = mine[0]!.trip.budgetMs;
  const span = Math.max(...mine.map((t) => t.trip.durationS), ...moves.map((mv) => mv.end));
  const x = { field: 't', type: 'quantitative' as const, title: 'trip time (s)', scale: { domain: [0, span], nice: false } };
  const tripColour = { field: 'trip', type: 'nominal' as const, title: 'trip', scale: { scheme: 'dark2' }, legend: { labelLimit: 300 } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `Trace ${trace}: the user, the service and the round trip over the trip`,
    // The user's cells and the trips are two colourings.
    resolve: { scale: { color: 'independent' } },
    vconcat: [
      {
        width: 760,
        height: 110,
        title: "the user's position along the road, coloured by its cell",
        data: { values: position },
        mark: { type: 'point', filled: true, size: 14 },
        encoding: {
          x,
          y: { field: 'x', type: 'quantitative', title: 'x (m)' },
          color: { field: 'cell', type: 'nominal', title: 'user cell', sort: edgeOrder },
        },
      },
      {
        width: 760,
        height: 120,
        title: 'the edge running the service',
        data: { values: service },
        mark: { type: 'tick', thickness: 2 },
        encoding: {
          x,
          y: { field: 'edge', type: 'nominal', title: null, sort: edgeOrder },
          yOffset: { field: 'trip', type: 'nominal' },
          color: tripColour,
        },
      },
      {
        width: 760,
        height: 140,
        title: `the user's round trip (emulated, ms); the rule is the ${budget} ms budget`,
        layer: [
          {
            data: { values: service.filter((s) => s.rtt !== null) },
            mark: { type: 'line', interpolate: 'step-after' },
            encoding: { x, y: { field: 'rtt', type: 'quantitative', title: 'RTT (ms)' }, color: tripColour },
          },
          {
            data: { values: [{ budget }] },
            mark: { type: 'rule', strokeDash: [4, 3], color: 'black' },
            encoding: { y: { field: 'budget', type: 'quantitative' } },
          },
        ],
      },
      ...(moves.length
        ? [
            {
              width: 760,
              height: 30 * new Set(moves.map((mv) => mv.trip)).size + 20,
              title: 'handovers: from start to end, with the longest time the service went unanswered',
              data: { values: moves },
              encoding: { y: { field: 'trip', type: 'nominal' as const, title: null } },
              layer: [
                {
                  mark: { type: 'bar' as const, height: 12 },
                  encoding: {
                    x: { field: 'start', type: 'quantitative' as const, title: 'trip time (s)', scale: { domain: [0, span], nice: false } },
                    x2: { field: 'end' },
                    color: { field: 'outcome', type: 'nominal' as const, title: 'handover' },
                  },
                },
                {
                  mark: { type: 'text' as const, align: 'left' as const, dx: 4, fontSize: 10 },
                  encoding: { x: { field: 'end', type: 'quantitative' as const }, text: { field: 'text' } },
                },
              ],
            },
          ]
        : []),
    ],
  } as TopLevelSpec;
}

function tripBlocks(m: TripManifest, trips: readonly FinishedTrip[], charts: readonly Chart[], integrity: readonly string[]): Block[] {
  const edges = Object.entries(m.nodes).filter(([, n]) => n.role === 'edge');
  const accel = [...new Set(edges.map(([, n]) => n.accelerator))].join('/');
  const lat = m.road.latency;
  const plan = m.plan;
  const blocks: Block[] = [
    { kind: 'h1', text: `followme trip report: ${plan.name}` },
    {
      kind: 'list',
      items: [
        `Testbed ${m.testbed.prefix}${m.testbed.stack ? ` (stack ${m.testbed.stack})` : ''}: ${edges.length} edges${m.testbed.nfs ? ' and an NFS server' : ''}, ${accel === 'TCG' ? 'QEMU TCG (emulated CPU, no KVM)' : accel}; cells ${m.road.cells.map((c) => `${c.edge} at (${c.x}, ${c.y}) m, radius ${c.radiusM} m`).join('; ')}.`,
        `The user's round trip is an emulation, not a radio measurement: profile ${lat.name}, ${lat.radioMs} ms radio plus ${lat.perHopMs} ms per backhaul hop between the user's cell and the edge running the service, applied with netem on each edge's uplink towards the controller (where the user's client and probe run).`,
        `Trips replayed at ×${plan.speedup} (trip seconds per wall second)${plan.speedup === 1 ? '' : `; migrations ran at their own speed, so each counts ${plan.speedup}× its wall time in trip time`}. Latency budget ${plan.budgetMs} ms.`,
        `Workload ${plan.workload.name}; service probe every ${plan.probe.intervalMs} ms; a stretch of 250 ms or more without an answer counts as unavailable.`,
        ...Object.entries(m.traces).map(
          ([name, t]) => `Trace ${name}: ${t.format}, vehicle ${t.vehicle}, ${t.points} positions, ${Math.round(t.lengthM)} m in ${t.durationS.toFixed(0)} s.`,
        ),
        `Host: ${m.controller.cpuModel}, ${m.controller.cores} cores; followme ${m.followme.version} at ${m.followme.commit.slice(0, 12)}.`,
      ],
    },
    { kind: 'h2', text: 'What the driver experienced, per trip' },
    {
      kind: 'table',
      head: [
        'trace',
        'policy (strategy)',
        'handovers',
        'unavailable, total (s)',
        'longest (s)',
        'mean RTT (ms)',
        'p95 RTT (ms)',
        `within ${plan.budgetMs} ms`,
        'moved (MiB)',
        'client',
        'state',
      ],
      rows: trips.map((t) => {
        const o = tripOutcome(t);
        const tried = t.handovers.length;
        return [
          t.trip.trace,
          labelOf(t.trip),
          tried === o.handovers ? String(tried) : `${o.handovers} of ${tried}`,
          f1(o.totalUnavailableS),
          f1(o.longestUnavailableS),
          f1(o.meanRttMs),
          f1(o.p95RttMs),
          pct(o.withinBudget),
          mib(o.bytesMoved),
          t.trip.client ? `connections: ${t.trip.client.connections}; longest stall ${(t.trip.client.longestStallMs / 1000).toFixed(1)} s` : '–',
          t.trip.outcome !== 'completed' ? `trip ${t.trip.outcome}` : (t.trip.state.problem ?? 'intact'),
        ];
      }),
    },
    {
      kind: 'p',
      text: 'Mean and p95 RTT are time-weighted over the time the service answered; "within" is the share of the whole trip the service answered within the budget. Bytes moved are the engine\'s (rootfs, images, pages) over the trip\'s handovers.',
    },
    { kind: 'h2', text: 'Timelines' },
    ...charts.map((chart): Block => ({ kind: 'chart', chart })),
    { kind: 'h2', text: 'Handovers' },
    {
      kind: 'table',
      head: ['trip', 'from → to', 'start (s)', 'end (s)', 'outcome', 'engine downtime (ms)', 'service unanswered (s)', 'overrun', 'why'],
      rows: trips.flatMap((t) =>
        t.handovers.map((h) => [
          labelOf(t.trip),
          `${h.from} → ${h.to}`,
          f1(h.startT),
          f1(h.endT),
          h.outcome,
          h.migration?.downtimeMs !== undefined ? h.migration.downtimeMs.toFixed(0) : '–',
          f1(h.serviceDowntimeMs / 1000),
          h.overrun ?? '–',
          h.why,
        ]),
      ),
    },
  ];
  const problems = trips.filter((t) => t.trip.error || t.trip.state.problem);
  if (problems.length)
    blocks.push(
      { kind: 'h2', text: 'Trips with a problem' },
      { kind: 'list', items: problems.map((t) => `${t.trip.key}: ${t.trip.error ?? t.trip.state.problem}`) },
    );
  if (integrity.length) blocks.push({ kind: 'h2', text: 'Lines of trip.jsonl not used' }, { kind: 'list', items: [...integrity] });
  blocks.push({ kind: 'p', text: 'Every number here comes from trip.jsonl and manifest.json; trips.csv has one row per trip, summary.json the same figures.' });
  return blocks;
}

export async function buildTripReport(dir: string, out: string, flags: { dir: string; out: string } = { dir: 'dir', out: 'out' }): Promise<TripReportFiles> {
  const manifest = readTripManifest(dir, flags.dir);
  if (!manifest) throw new ConfigError(`${dir}: no manifest.json (not a results directory of \`followme follow\`)`, flags.dir);
  const reading = readTrips(dir, { flag: flags.dir, planned: new Set(plannedTrips(manifest.plan).map((t) => t.key)) });
  const { trips } = reading;
  if (trips.length === 0) throw new ConfigError(`${dir}: trip.jsonl holds no finished trip of its plan yet`, flags.dir);
  const charts: Chart[] = [];
  for (const [i, trace] of [...new Set(trips.map((t) => t.trip.trace))].entries()) {
    const spec = timelineSpec(manifest, trace, trips);
    if (spec) charts.push({ file: `timeline-${i + 1}.svg`, title: `Trace ${trace}: timeline`, svg: await renderSvg(spec) });
  }
  prepareOutputDir(out, flags.out);
  const files: string[] = [];
  const put = (name: string, chunks: Iterable<string>) => {
    writeReportFile(out, name, chunks);
    files.push(name);
  };
  const summary = trips.map((t) => ({
    ...tripOutcome(t),
    key: t.trip.key,
    trace: t.trip.trace,
    policy: t.trip.policy,
    strategy: t.trip.strategy,
    repetition: t.trip.repetition,
  }));
  put('trips.csv', [stringify(summary, { header: true, cast: { number: (n) => String(n) } })]);
  put('summary.json', [`${JSON.stringify(summary, null, 2)}\n`]);
  for (const c of charts) put(c.file, [c.svg]);
  const integrity = tripIntegrityNotes(reading);
  const blocks = tripBlocks(manifest, trips, charts, integrity);
  put('report.md', [toMarkdown(blocks)]);
  put('report.html', [toHtml(`followme trip report: ${manifest.plan.name}`, blocks)]);
  return { dir: out, files, trips: trips.length, integrity };
}
