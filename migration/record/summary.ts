// Text made from records alone: one migration's phases, and the results
// table across strategies (the paper's Table II columns, plus ours).
import type { MigrationRecord, PhaseRecord } from './schema.js';

const ms = (x: number) => `${x.toFixed(0)} ms`;
const sec = (x: number) => `${(x / 1000).toFixed(2)} s`;

export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

/** One line per phase as it ends (the CLI's progress). */
export function formatPhase(p: PhaseRecord): string {
  const remote = p.commands.reduce((s, c) => s + c.remoteMs, 0);
  const bytes = p.bytes !== undefined ? `, ${formatBytes(p.bytes)}` : '';
  const why = p.decision ? `; ${p.decision.rule}: ${p.decision.detail}` : '';
  return `${p.name}: ${sec(p.durationMs)} (commands ${sec(remote)}${bytes}${why})`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The summary of one migration: phases, then the measures. */
export function formatSummary(r: MigrationRecord): string {
  const rows = r.phases.map((p) => [
    p.name,
    sec(p.durationMs),
    sec(p.commands.reduce((s, c) => s + c.remoteMs, 0)),
    p.bytes !== undefined ? formatBytes(p.bytes) : '',
  ]);
  const preDumps = r.phases.filter((p) => p.kind === 'pre-dump').length;
  const stopped = r.phases.find((p) => p.kind === 'final-dump')?.decision;
  const lines = [
    `migration ${r.id}: ${r.strategy}, ${r.container} ${r.from} → ${r.to}, ${preDumps} pre-dumps${preDumps !== r.predumps ? ` (at most ${r.predumps})` : ''}: ${r.outcome}`,
    table(['phase', 'wall', 'commands', 'bytes'], rows),
    `total Ψ ${sec(r.totalMs)}` +
      (r.downtimeMs !== undefined ? `, downtime ${ms(r.downtimeMs)}` : '') +
      (r.lastDumpPagesWritten !== undefined ? `, pages in last dump ${r.lastDumpPagesWritten}` : '') +
      `, moved ${formatBytes(r.bytesMoved)}`,
    `engine overhead ${ms(r.engineOverheadMs)} (${((100 * r.engineOverheadMs) / Math.max(r.totalMs, 1)).toFixed(1)}% of Ψ; remote commands ${sec(r.remoteCommandMs)})`,
  ];
  if (stopped) lines.push(`pre-copy stopped (${stopped.rule}): ${stopped.detail}`);
  if (r.error) lines.push(`failed in ${r.error.phase}: ${r.error.message}`, `rollback: ${r.error.rollback}`);
  if (r.cleanupWarning) lines.push(`cleanup warning: ${r.cleanupWarning}`);
  for (const m of r.missing ?? []) lines.push(`missing from this record: ${m}`);
  for (const p of r.problems ?? []) lines.push(`record problem (timings not to be trusted): ${p}`);
  for (const e of r.listenerErrors ?? []) lines.push(`event listener error (the migration went on): ${e}`);
  if (r.listenerMs) lines.push(`event listeners took ${ms(r.listenerMs)}, paused out of Ψ`);
  return lines.join('\n');
}

/** One row per record: the results table of a run. */
export function formatResultsTable(records: MigrationRecord[]): string {
  const rows = records.map((r) => [
    r.strategy,
    `${r.from}→${r.to}`,
    r.outcome,
    r.downtimeMs !== undefined ? ms(r.downtimeMs) : '-',
    sec(r.totalMs),
    String(r.lastDumpPagesWritten ?? '-'),
    formatBytes(r.bytesMoved),
    `${ms(r.engineOverheadMs)} (${((100 * r.engineOverheadMs) / Math.max(r.totalMs, 1)).toFixed(1)}%)`,
  ]);
  return table(['strategy', 'move', 'outcome', 'downtime', 'total Ψ', 'pages last dump', 'moved', 'engine overhead'], rows);
}
