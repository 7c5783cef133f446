// The runs as a table: one row per run, snake_case columns (runs.csv), and
// the per-group statistics over the runs that migrated (summary.json).
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
  'client_connections',
  'probe_sent',
  'probe_answered',
  'state_problem',
  'error',
] as const;

/** Columns summary.json summarizes (with the phase columns). */
export const METRICS = ['downtime_ms', 'service_downtime_ms', 'total_ms', 'last_dump_pages', 'client_longest_stall_ms'] as const;

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
    client_connections: r.client?.connections ?? null,
    probe_sent: r.probe.sent,
    probe_answered: r.probe.answered,
    state_problem: r.state.problem ?? null,
    error: r.error ?? null,
  };
  for (const p of m?.phases ?? []) {
    const col = phaseColumn(p.kind, p.iteration);
    row[col] = ((row[col] as number | null) ?? 0) + p.durationMs;
  }
  return row;
}

/** Every column of these rows: the base ones, then each phase column in the order it first appears. */
export function columnsOf(rows: readonly Row[]): string[] {
  const cols: string[] = [...BASE_COLUMNS];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  return cols;
}

export interface SummaryEntry extends Summary {
  strategy: string;
  workload: string;
  profile: string;
  metric: string;
}

/** A run counts in the statistics if it migrated and its workload's state went on. */
export function counts(r: RunRecord): boolean {
  return r.outcome === 'migrated' && !r.state.problem;
}

export function groupsOf(runs: readonly RunRecord[]): { profile: string; workload: string; strategy: string }[] {
  const seen = new Map<string, { profile: string; workload: string; strategy: string }>();
  for (const r of runs) seen.set(`${r.profile}\0${r.workload}\0${r.strategy}`, { profile: r.profile, workload: r.workload, strategy: r.strategy });
  return [...seen.values()];
}

/** summary.json: per strategy × workload × profile, each metric over the runs that count. */
export function summaryEntries(runs: readonly RunRecord[]): SummaryEntry[] {
  const rows = runs.filter(counts).map((r) => ({ r, row: runRow(r) }));
  const phaseCols = columnsOf(rows.map((x) => x.row)).filter((c) => !(BASE_COLUMNS as readonly string[]).includes(c));
  const out: SummaryEntry[] = [];
  for (const g of groupsOf(runs)) {
    const mine = rows.filter(({ r }) => r.profile === g.profile && r.workload === g.workload && r.strategy === g.strategy).map((x) => x.row);
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
