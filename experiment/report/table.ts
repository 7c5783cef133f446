// The runs as a table: one row per run, snake_case columns (runs.csv), and
// the per-group statistics over the runs that migrated (summary.json).
import { oneLine } from '../../common/input/clip.js';
import type { PhaseKind } from '../../migration/record/schema.js';
import type { RunRecord } from '../results.js';
import { summarize, type Summary } from '../stats.js';

export type Cell = string | number | null;
export type Row = Record<string, Cell>;

/** A phase's column: rootfs_copy_ms, pre_dump_1_ms, pre_dump_copy_1_ms, final_dump_ms, final_copy_ms, restore_ms. */
export function phaseColumn(kind: PhaseKind, iteration?: number): string {
  return `${kind.replaceAll('-', '_')}${iteration !== undefined ? `_${iteration}` : ''}_ms`;
}

/** The columns every row has, in order; phase columns follow, in the order phases ran. */
export const BASE_COLUMNS = [
  'key',
  'index',
  'experiment',
  'profile',
  'workload',
  'strategy',
  'repetition',
  'from',
  'to',
  'started_at',
  'outcome',
  'downtime_ms',
  'service_downtime_ms',
  'total_ms',
  'last_dump_pages',
  'setup_ms',
  'bytes_moved',
  'engine_overhead_ms',
  'client_longest_stall_ms',
  'final_frozen_ms',
  'client_connections',
  'probe_sent',
  'probe_answered',
  'state_problem',
  'error',
] as const;

/** Columns summary.json summarizes (with the phase columns). */
export const METRICS = ['downtime_ms', 'service_downtime_ms', 'total_ms', 'last_dump_pages', 'client_longest_stall_ms', 'final_frozen_ms'] as const;

/** Text from a record, as one cell or list item: control characters become spaces, long text is cut, and a leading = + - @ cannot start a spreadsheet formula. */
export function plainText(text: string, max = 2000): string {
  const flat = oneLine(text).trim();
  const cut = flat.length > max ? `${flat.slice(0, max)}… (${flat.length - max} more characters)` : flat;
  return /^[=+\-@]/.test(cut) ? `'${cut}` : cut;
}

/** CRIU's own frozen time of the final dump (freeze to the dump's end), where the record has it. */
function finalFrozenMs(m: RunRecord['migration']): number | null {
  // A lazy dump's statistics do not time its freeze (see migrate.ts).
  const s = m?.lazy ? undefined : m?.iterations.find((i) => i.kind === 'dump')?.stats;
  return s ? s.frozenTimeUs / 1000 : null;
}

export function runRow(r: RunRecord): Row {
  const m = r.migration;
  const row: Row = {
    key: r.key,
    index: r.index,
    experiment: r.experiment,
    profile: r.profile,
    workload: r.workload,
    strategy: r.strategy,
    repetition: r.repetition,
    from: r.from,
    to: r.to,
    started_at: r.startedAt,
    outcome: r.outcome,
    downtime_ms: m?.downtimeMs ?? null,
    service_downtime_ms: r.serviceDowntimeMs ?? null,
    total_ms: m?.totalMs ?? null,
    last_dump_pages: m?.lastDumpPagesWritten ?? null,
    setup_ms: m?.setupMs ?? null,
    bytes_moved: m?.bytesMoved ?? null,
    engine_overhead_ms: m?.engineOverheadMs ?? null,
    client_longest_stall_ms: r.client?.longestStallMs ?? null,
    final_frozen_ms: finalFrozenMs(m),
    client_connections: r.client?.connections ?? null,
    probe_sent: r.probe.sent,
    probe_answered: r.probe.answered,
    state_problem: r.state.problem !== undefined ? plainText(r.state.problem) : null,
    error: r.error !== undefined ? plainText(r.error) : null,
  };
  Object.assign(row, lazyColumns(m));
  for (const p of m?.phases ?? []) {
    const col = phaseColumn(p.kind, p.iteration);
    row[col] = ((row[col] as number | null) ?? 0) + p.durationMs;
  }
  return row;
}

/**
 * A post-copy move's lazy window, as columns only runs that had one carry:
 * its length (the risk: a failure of either edge or the link in it loses the
 * state), the pages it brought, the faults served, and, when it was lost,
 * the pages that never arrived and why.
 */
function lazyColumns(m: RunRecord['migration']): Row {
  const lost = m?.error?.stateLost;
  const l = m?.lazy;
  return {
    ...(l
      ? {
          lazy_window_ms: l.windowMs ?? null,
          lazy_page_count: l.pagesLazy,
          lazy_faults: l.faults,
          ...(l.pagesNotArrived !== undefined ? { lazy_pages_not_arrived: l.pagesNotArrived } : {}),
        }
      : {}),
    ...(lost !== undefined ? { state_lost: plainText(lost) } : {}),
  };
}

/** What the report keeps of a run: its row and a few words, not the whole record (a report of 100,000 runs). */
export interface ReportRun {
  key: string;
  profile: string;
  workload: string;
  strategy: string;
  outcome: RunRecord['outcome'];
  /** Migrated with the workload's state intact: the run counts in the statistics. */
  counted: boolean;
  migratedStateBroken: boolean;
  row: Row;
  /** For a run left out of the statistics: what happened, in one line. */
  why?: string;
}

/** A run counts in the statistics if it migrated and its workload's state went on. */
export function counts(r: RunRecord): boolean {
  return r.outcome === 'migrated' && !r.state.problem;
}

function whyLeftOut(r: RunRecord): string {
  const k = r.controllerKilled;
  const killed = k
    ? ` (controller ${plainText(k.ended, 200)}; recover ${k.recovery.settled ? `left it on ${k.recovery.runningOn ?? 'no edge'}` : 'could not settle it'})`
    : '';
  const state = r.state.problem ? `; state: ${plainText(r.state.problem, 300)}` : '';
  const error = r.error ? `; ${plainText(r.error.split('\n')[0] ?? '', 300)}` : '';
  return `${r.outcome}${killed}${state}${error}`;
}

export function reportRun(r: RunRecord): ReportRun {
  const counted = counts(r);
  return {
    key: r.key,
    profile: r.profile,
    workload: r.workload,
    strategy: r.strategy,
    outcome: r.outcome,
    counted,
    migratedStateBroken: r.outcome === 'migrated' && r.state.problem !== undefined,
    row: runRow(r),
    ...(counted ? {} : { why: whyLeftOut(r) }),
  };
}

/** Every column of these rows: the base ones, then each phase column in the order it first appears. */
export function columnsOf(rows: Iterable<Row>): string[] {
  const cols: string[] = [...BASE_COLUMNS];
  const known = new Set(cols);
  for (const r of rows)
    for (const k of Object.keys(r))
      if (!known.has(k)) {
        known.add(k);
        cols.push(k);
      }
  return cols;
}

export interface SummaryEntry extends Summary {
  strategy: string;
  workload: string;
  profile: string;
  metric: string;
}

type Group = { profile: string; workload: string; strategy: string };
const groupKey = (g: Group) => `${g.profile}\0${g.workload}\0${g.strategy}`;

export function groupsOf(runs: readonly ReportRun[]): Group[] {
  const seen = new Map<string, Group>();
  for (const r of runs) seen.set(groupKey(r), { profile: r.profile, workload: r.workload, strategy: r.strategy });
  return [...seen.values()];
}

/** summary.json: per strategy × workload × profile, each metric over the runs that count. */
export function summaryEntries(runs: readonly ReportRun[]): SummaryEntry[] {
  const counted = runs.filter((r) => r.counted);
  const phaseCols = columnsOf(counted.map((r) => r.row)).filter((c) => !(BASE_COLUMNS as readonly string[]).includes(c));
  const byGroup = new Map<string, Row[]>();
  for (const r of counted) {
    const rows = byGroup.get(groupKey(r));
    if (rows) rows.push(r.row);
    else byGroup.set(groupKey(r), [r.row]);
  }
  const out: SummaryEntry[] = [];
  for (const g of groupsOf(runs)) {
    const mine = byGroup.get(groupKey(g)) ?? [];
    for (const metric of [...METRICS, ...phaseCols]) {
      const values = mine.map((row) => row[metric]).filter((v): v is number => typeof v === 'number');
      const s = summarize(values);
      if (s) out.push({ strategy: g.strategy, workload: g.workload, profile: g.profile, metric, ...s });
    }
  }
  return out;
}

export function entry(entries: readonly SummaryEntry[], g: { profile: string; workload: string; strategy: string }, metric: string): SummaryEntry | undefined {
  return entries.find((e) => e.profile === g.profile && e.workload === g.workload && e.strategy === g.strategy && e.metric === metric);
}
