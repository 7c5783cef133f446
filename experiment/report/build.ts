// followme report: everything from a results directory alone (manifest.json
// and runs.jsonl), no testbed: report.md and report.html with the paper's
// Table II and figures beside ours, SVG charts, runs.csv and summary.json.
import { stringify } from 'csv-stringify/sync';
import { ConfigError } from '../../common/errors.js';
import { type Manifest, readManifest } from '../manifest.js';
import { describeProfile } from '../profiles.js';
import { plannedRuns } from '../plan.js';
import { integrityNotes, readResults } from '../results.js';
import { type Chart, reportCharts } from './charts.js';
import { type Block, toHtml, toMarkdown } from './document.js';
import { PAPER_FIGURES, PAPER_SETUP, PAPER_STRATEGIES, type PaperStrategy, paperFigure } from './paper.js';
import { prepareOutputDir, writeReportFile } from './output.js';
import { columnsOf, entry, groupsOf, type ReportRun, reportRun, type Row, type SummaryEntry, summaryEntries } from './table.js';

export interface ReportFiles {
  dir: string;
  files: string[];
  runs: number;
  counted: number;
  /** What was wrong with runs.jsonl (torn, duplicate or foreign lines), one sentence each. */
  integrity: string[];
}

const f0 = (x: number | null | undefined) => (x === null || x === undefined ? '–' : x.toFixed(0));
const f1 = (x: number | null | undefined) => (x === null || x === undefined ? '–' : x.toFixed(1));
const f2 = (x: number | null | undefined) => (x === null || x === undefined ? '–' : x.toFixed(2));
const f3 = (x: number | null | undefined) => (x === null || x === undefined ? '–' : x.toFixed(3));

const METRIC_NAMES: Record<string, string> = { downtime_ms: 'downtime (ms)', total_ms: 'total time Ψ (ms)', last_dump_pages: 'pages in the last dump' };

/** The profile compared with the paper: its 1 Gbit/s link if the plan had it, else the first. */
function comparedProfile(m: Manifest, runs: readonly ReportRun[]): string {
  const names = [...new Set(runs.map((r) => r.profile))];
  return names.includes('gigabit') ? 'gigabit' : (names[0] ?? m.plan.profiles[0]?.name ?? 'gigabit');
}

function whereOursRan(m: Manifest): string[] {
  const edges = Object.entries(m.nodes).filter(([, n]) => n.role === 'edge');
  const accel = [...new Set(edges.map(([, n]) => n.accelerator))].join('/');
  const e = edges[0]?.[1];
  const lines = [
    `Nodes: ${edges.length} edges${m.testbed.nfs ? ' and an NFS server' : ''}, ${accel === 'TCG' ? 'QEMU TCG (emulated CPU, no KVM)' : accel}, ${e?.cores ?? '?'} vCPU${e?.cores === 1 ? '' : 's'} and ${e?.memoryMiB ?? '?'} MiB each; kernel ${e?.kernel ?? '?'}, CRIU ${e?.criu ?? '?'}, LXC ${e?.lxc ?? '?'}; image recipe ${e?.imageRecipe.slice(0, 12) ?? '?'}.`,
    `Host: ${m.controller.cpuModel}, ${m.controller.cores} cores, kernel ${m.controller.kernel}; ${m.controller.qemu}; ${m.controller.libvirt}.`,
    `followme ${m.followme.version} at ${m.followme.commit.slice(0, 12)}${m.followme.commit.endsWith('+changes') ? ' with uncommitted changes' : ''}; plan "${m.plan.name}", ${m.plan.repetitions} repetitions, ${m.plan.predumps} pre-dumps, service probe every ${m.plan.probe.intervalMs} ms.`,
  ];
  if (m.plan.fault)
    lines.push(
      `Fault injected into every run: ${m.plan.fault.kind} at the start of "${m.plan.fault.phase}"${m.plan.fault.afterMs ? ` + ${m.plan.fault.afterMs} ms` : ''}; ${m.plan.fault.kind === 'controller-killed' ? "each run's record (controllerKilled) says where its controller died and what `recover` found and did" : "each run's record says what was done and healed"}.`,
    );
  for (const [name, p] of Object.entries(m.profiles)) {
    const meas = p.measured;
    lines.push(
      `Profile ${name}: ${describeProfile(p.profile)} on the edge-to-edge path${meas ? `; measured RTT ${f2(meas.rttMs.avg)} ms (min ${f2(meas.rttMs.min)}, max ${f2(meas.rttMs.max)}), throughput ${f0(meas.throughputMbit)} Mbit/s (${meas.between.join(' → ')}, one TCP stream)` : ''}.`,
    );
  }
  return lines;
}

function ratio(ours: number | undefined, paper: number): string {
  return ours === undefined ? '–' : `${(ours / paper).toFixed(2)}×`;
}

/** Where ours differ from the paper in shape, not only in scale. */
export function shapeFindings(entries: readonly SummaryEntry[], profile: string): string[] {
  const mean = (workload: string, strategy: string, metric: string) => entry(entries, { profile, workload, strategy }, metric)?.mean;
  const out: string[] = [];
  for (const w of ['blank', 'video'] as const) {
    const t = mean(w, 'tmpfs', 'last_dump_pages');
    const d = mean(w, 'diskless', 'last_dump_pages');
    const pt = paperFigure(w, 'tmpfs', 'last_dump_pages')!.mean;
    const pd = paperFigure(w, 'diskless', 'last_dump_pages')!.mean;
    if (t !== undefined && d !== undefined && t > 0) {
      const r = d / t;
      const same = r >= 2;
      out.push(
        `Pages in the last dump, ${w}: disk-less copies ${r.toFixed(2)}× the pages of tmpfs (paper: ${(pd / pt).toFixed(2)}× with CRIU 2.6). ` +
          (same
            ? 'Same shape: the page server still sends several times more.'
            : 'Different shape: disk-less no longer copies several times more pages than tmpfs.'),
      );
    }
    const order = (metric: string) =>
      PAPER_STRATEGIES.map((s) => ({ s, v: metric === 'paper' ? paperFigure(w, s, 'downtime_ms')!.mean : mean(w, s, 'downtime_ms') }))
        .filter((x): x is { s: PaperStrategy; v: number } => x.v !== undefined)
        .sort((a, b) => a.v - b.v)
        .map((x) => x.s);
    const ours = order('downtime_ms');
    if (ours.length >= 2) {
      const paper = order('paper').filter((s) => ours.includes(s));
      out.push(
        `Downtime order, ${w}: ours ${ours.join(' < ')}; the paper's ${paper.join(' < ')}. ${ours.join() === paper.join() ? 'Same order.' : 'A different order.'}`,
      );
    }
    const tt = mean(w, 'tmpfs', 'total_ms');
    const ts = mean(w, 'shared', 'total_ms');
    if (tt !== undefined && ts !== undefined) {
      const pr = paperFigure(w, 'tmpfs', 'total_ms')!.mean / paperFigure(w, 'shared', 'total_ms')!.mean;
      out.push(
        `Total time, ${w}: tmpfs takes ${(tt / ts).toFixed(1)}× as long as shared (paper: ${pr.toFixed(1)}×). ${tt > ts ? 'Same shape: copying the file system dominates.' : 'Different shape: shared is not the fastest.'}`,
      );
    }
  }
  for (const s of PAPER_STRATEGIES) {
    const b = mean('blank', s, 'downtime_ms');
    const v = mean('video', s, 'downtime_ms');
    if (b !== undefined && v !== undefined) {
      const p = paperFigure('video', s, 'downtime_ms')!.mean / paperFigure('blank', s, 'downtime_ms')!.mean;
      out.push(
        `Video vs blank downtime, ${s}: ${(v / b).toFixed(2)}× (paper: ${p.toFixed(2)}×). ${v > b === p > 1 ? 'Same direction.' : 'The opposite direction.'}`,
      );
    }
  }
  return out;
}

/**
 * Post-copy's price beside its gain: per group with a lazy window, the
 * downtime and the window (the time a failure of either edge or the link
 * loses the state), and every run that lost it. Nothing without such runs.
 */
export function lazyWindowBlocks(runs: readonly ReportRun[], entries: readonly SummaryEntry[]): Block[] {
  const withWindow = entries.filter((e) => e.metric === 'lazy_window_ms');
  const lost = runs.filter((r) => typeof r.row['state_lost'] === 'string' && 'lazy_page_count' in r.row);
  if (!withWindow.length && !lost.length) return [];
  const cell = (e: SummaryEntry | undefined) => (e ? `${f0(e.mean)}${e.ci95 !== null ? ` ± ${f0(e.ci95)}` : ''}` : '–');
  return [
    { kind: 'h2', text: "Post-copy's lazy window" },
    {
      kind: 'p',
      text:
        'From the restore to the last page, the container runs on the destination while part of its memory is still on the source: ' +
        'a failure of either edge, or of the link between them, in that window loses its state (the record says stateLost). ' +
        'The window is the risk post-copy trades for its downtime. Means ± CI 95% over the runs that migrated.',
    },
    {
      kind: 'table',
      head: ['profile', 'workload', 'strategy', 'n', 'downtime (ms)', 'lazy window (ms)', 'pages brought lazily', 'faults served'],
      rows: withWindow.map((w) => {
        const of = (metric: string) => entry(entries, w, metric);
        return [w.profile, w.workload, w.strategy, String(w.n), cell(of('downtime_ms')), cell(w), cell(of('lazy_page_count')), cell(of('lazy_faults'))];
      }),
    },
    ...(lost.length
      ? [
          { kind: 'p', text: 'Runs that lost their state in the lazy window:' } as Block,
          { kind: 'list', items: lost.map((r) => `${r.key}: ${String(r.row['state_lost'])}`) } as Block,
        ]
      : []),
  ];
}

function statsTable(entries: readonly SummaryEntry[], profile: string): Block {
  const rows = entries
    .filter((e) => e.profile === profile)
    .map((e) => [e.workload, e.strategy, e.metric, String(e.n), f1(e.mean), f1(e.sd), f1(e.ci95), f3(e.cv), f1(e.min), f1(e.median), f1(e.max)]);
  return { kind: 'table', head: ['workload', 'strategy', 'metric', 'n', 'mean', 'sd', 'CI 95%', 'CV', 'min', 'median', 'max'], rows };
}

export function reportBlocks(
  m: Manifest,
  runs: readonly ReportRun[],
  entries: readonly SummaryEntry[],
  charts: readonly Chart[],
  integrity: readonly string[] = [],
): Block[] {
  const profile = comparedProfile(m, runs);
  const counted = runs.filter((r) => r.counted);
  const accel = [...new Set(Object.values(m.nodes).map((n) => n.accelerator))].join('/');
  const blocks: Block[] = [
    { kind: 'h1', text: `followme report: ${m.plan.name}` },
    {
      kind: 'p',
      text: `${runs.length} runs (${counted.length} migrated with the workload's state intact; ${runs.filter((r) => r.outcome === 'rolled-back').length} rolled back; ${runs.filter((r) => r.outcome === 'failed').length} failed; ${runs.filter((r) => r.migratedStateBroken).length} migrated but their state did not go on). Statistics are over the runs that migrated with their state intact: mean, sample standard deviation, the half-width of the 95% confidence interval of the mean (Student t, n − 1 degrees of freedom), coefficient of variation.`,
    },
    { kind: 'h2', text: 'Where ours ran' },
    { kind: 'list', items: whereOursRan(m) },
    {
      kind: 'p',
      text: `The paper: ${PAPER_SETUP}. Ours are compared with it on profile **${profile}**${accel === 'TCG' ? "; under TCG every CRIU step runs on an emulated CPU, so our times are several times the paper's, and ratios say more than differences" : ''}.`,
    },
    { kind: 'h2', text: 'Table II: pages copied during the last dump' },
    {
      kind: 'table',
      head: ['case', 'ours: n', 'ours: mean', 'ours: sd', 'ours: CI 95%', 'paper: mean', 'paper: sd', 'paper: CI 95%'],
      rows: (['blank', 'video', 'memory'] as const).flatMap((w) =>
        PAPER_STRATEGIES.flatMap((s) => {
          const e = entry(entries, { profile, workload: w, strategy: s }, 'last_dump_pages');
          const p = paperFigure(w, s, 'last_dump_pages');
          if (!e && !p) return [];
          return [[`${w}, ${s}`, e ? String(e.n) : '0', f1(e?.mean), f2(e?.sd), f2(e?.ci95), f1(p?.mean), f2(p?.sd), f2(p?.ci95)]];
        }),
      ),
    },
    { kind: 'h2', text: 'Every figure the paper reports, beside ours' },
    {
      kind: 'table',
      head: ['metric', 'workload', 'strategy', 'paper', 'ours (mean ± CI 95%, n)', 'ours / paper', 'paper source'],
      rows: PAPER_FIGURES.map((p) => {
        const e = entry(entries, { profile, workload: p.workload, strategy: p.strategy }, p.metric);
        return [
          METRIC_NAMES[p.metric]!,
          p.workload,
          p.strategy,
          `${f1(p.mean)}${p.ci95 !== undefined ? ` ± ${f1(p.ci95)}` : ''}`,
          e ? `${f1(e.mean)} ± ${f1(e.ci95)} (${e.n})` : 'not run',
          ratio(e?.mean, p.mean),
          p.source,
        ];
      }),
    },
    { kind: 'h3', text: 'Shape: where ours agree with the paper, and where not' },
    { kind: 'list', items: shapeFindings(entries, profile).length ? shapeFindings(entries, profile) : ['Too few groups in these results to compare shapes.'] },
    { kind: 'h2', text: 'Figures' },
    ...charts.map((chart): Block => ({ kind: 'chart', chart })),
    ...lazyWindowBlocks(runs, entries),
    { kind: 'h2', text: 'Statistics per strategy, workload and profile' },
  ];
  for (const p of [...new Set(entries.map((e) => e.profile))]) blocks.push({ kind: 'h3', text: `Profile ${p}` }, statsTable(entries, p));
  const notCounted = runs.filter((r) => !r.counted);
  if (notCounted.length) {
    blocks.push({ kind: 'h2', text: 'Runs left out of the statistics' }, { kind: 'list', items: notCounted.map((r) => `${r.key}: ${r.why ?? r.outcome}`) });
  }
  if (integrity.length) {
    blocks.push(
      { kind: 'h2', text: 'Lines of runs.jsonl not used' },
      { kind: 'p', text: 'These lines were read and left out; each is named once:' },
      { kind: 'list', items: [...integrity] },
    );
  }
  blocks.push({
    kind: 'p',
    text: `Groups: ${groupsOf(runs).length}. Every number here comes from runs.jsonl and manifest.json; runs.csv has one row per run, summary.json the statistics.`,
  });
  return blocks;
}

/** Report runs are read with their run keys checked against the manifest's plan: a chart's file name is only ever a plan's profile. */
export async function buildReport(dir: string, out: string, flags: { dir: string; out: string } = { dir: 'dir', out: 'out' }): Promise<ReportFiles> {
  const manifest = readManifest(dir, flags.dir);
  if (!manifest) throw new ConfigError(`${dir}: no manifest.json (not a results directory of \`followme experiment\`)`, flags.dir);
  const planned = new Set(plannedRuns(manifest.plan).map((r) => r.key));
  const reading = readResults(dir, { flag: flags.dir, keep: reportRun, planned });
  const { runs } = reading;
  if (runs.length === 0) throw new ConfigError(`${dir}: runs.jsonl holds no runs of its plan yet`, flags.dir);
  const entries = summaryEntries(runs);
  const charts = await reportCharts(entries);
  prepareOutputDir(out, flags.out);
  const files: string[] = [];
  const put = (name: string, chunks: Iterable<string>) => {
    writeReportFile(out, name, chunks);
    files.push(name);
  };
  put('runs.csv', csvChunks(runs.map((r) => r.row)));
  put('summary.json', [`${JSON.stringify(entries, null, 2)}\n`]);
  for (const c of charts) put(c.file, [c.svg]);
  const integrity = integrityNotes(reading);
  const blocks = reportBlocks(manifest, runs, entries, charts, integrity);
  put('report.md', [toMarkdown(blocks)]);
  put('report.html', [toHtml(`followme report: ${manifest.plan.name}`, blocks)]);
  return { dir: out, files, runs: runs.length, counted: runs.filter((r) => r.counted).length, integrity };
}

/** runs.csv a thousand rows at a time: memory holds the rows, never the whole file as one string. */
function* csvChunks(rows: readonly Row[]): Generator<string> {
  const columns = columnsOf(rows);
  for (let i = 0; i < rows.length || i === 0; i += 1000) {
    yield stringify(rows.slice(i, i + 1000), { header: i === 0, columns, cast: { number: (n) => String(n) } });
  }
}
