// What an experiment writes: one run record per line in DIR/runs.jsonl,
// appended (and flushed to disk) as soon as the run ends, so a killed runner
// loses at most the run it was in; each run's probe timeline beside it.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { ConfigError } from '../common/errors.js';
import { formatProblems, newAjv, schemaProblems } from '../common/input/ajv.js';
import { parseJsonInput } from '../common/input/json.js';
import { CONTAINER_NAME_PATTERN, NODE_NAME_PATTERN } from '../common/input/patterns.js';
import { forEachLine } from '../common/input/read.js';
import { MigrationRecordSchema, StrategyNameSchema } from '../migration/record/schema.js';
import { unlistedProblems } from '../migration/record/validate.js';
import { ClientReportSchema, WORKLOAD_NAMES } from '../workloads/types.js';
import { runKey } from './plan.js';
import { ProbeReportSchema, type ProbeTimeline } from './probe.js';
import { PROFILE_NAME_PATTERN } from './profiles.js';

/** profile/workload/strategy/repetition, as runKey makes it. */
const RUN_KEY_PATTERN = '^[a-z][a-z0-9-]{0,31}/[a-z][a-z0-9-]{0,31}/[a-z][a-z0-9-]{0,31}/[1-9][0-9]{0,5}$';

/** A run whose controller was killed (fault controller-killed): how, and what `recover` did after. */
export const ControllerKilledSchema = Type.Object(
  {
    phase: Type.String(),
    afterMs: Type.Optional(Type.Integer({ minimum: 0 })),
    /** The child controller's pid; absent when it died by something else than the fault. */
    pid: Type.Optional(Type.Integer()),
    /** How it ended: the fault's SIGKILL, or what else ended it. */
    ended: Type.String(),
    /** The journal entry it left: the migration, the step it was in, whether the point of no return was passed. */
    migrationId: Type.String(),
    step: Type.String(),
    pointOfNoReturnPassed: Type.Boolean(),
    /** What `recover` found and did. */
    recovery: Type.Object(
      {
        found: Type.Array(Type.String()),
        did: Type.Array(Type.String()),
        runningOn: Type.Optional(Type.String()),
        settled: Type.Boolean(),
        problem: Type.Optional(Type.String()),
        ms: Type.Number({ minimum: 0 }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type ControllerKilled = Static<typeof ControllerKilledSchema>;

export const RunRecordSchema = Type.Object(
  {
    runVersion: Type.Literal(1),
    /** profile/workload/strategy/repetition: unique in the experiment. */
    key: Type.String({ pattern: RUN_KEY_PATTERN }),
    index: Type.Integer({ minimum: 1 }),
    /** The plan's name. */
    experiment: Type.String({ pattern: PROFILE_NAME_PATTERN }),
    /** Reaches file names (the report's charts): only a profile name's alphabet. */
    profile: Type.String({ pattern: PROFILE_NAME_PATTERN }),
    workload: Type.Union(WORKLOAD_NAMES.map((w) => Type.Literal(w))),
    strategy: StrategyNameSchema,
    repetition: Type.Integer({ minimum: 1 }),
    container: Type.String({ pattern: CONTAINER_NAME_PATTERN }),
    from: Type.String({ pattern: NODE_NAME_PATTERN }),
    to: Type.String({ pattern: NODE_NAME_PATTERN }),
    startedAt: Type.String({ format: 'date-time' }),
    endedAt: Type.String({ format: 'date-time' }),
    outcome: Type.Union([Type.Literal('migrated'), Type.Literal('rolled-back'), Type.Literal('failed')]),
    /** The engine's record; absent when the engine failed before it could make one, or its controller was killed. */
    migration: Type.Optional(MigrationRecordSchema),
    controllerKilled: Type.Optional(ControllerKilledSchema),
    /** The longest time the service probe got no answer: the downtime a user sees. */
    serviceDowntimeMs: Type.Optional(Type.Number({ minimum: 0 })),
    probe: ProbeReportSchema,
    /** The workload's own client (the video player), if it has one. */
    client: Type.Optional(ClientReportSchema),
    /** The workload's state before and after; `problem` when it did not go on. */
    state: Type.Object({ before: Type.String(), after: Type.Optional(Type.String()), problem: Type.Optional(Type.String()) }, { additionalProperties: false }),
    error: Type.Optional(Type.String()),
    /** The probe's full timeline, relative to DIR (timelinePath of the key). */
    timeline: Type.String({ pattern: '^timelines/[a-z0-9_-]{1,80}\\.json$' }),
  },
  { additionalProperties: false },
);
export type RunRecord = Static<typeof RunRecordSchema>;

const check = newAjv().compile<RunRecord>(RunRecordSchema);

/** A results directory that is not what followme wrote: bad input to `report`, or to a resumed experiment (exit 2). */
export class InvalidResultsError extends ConfigError {
  override name = 'InvalidResultsError';
}

export function validateRun(data: unknown, source: string): RunRecord {
  if (!check(data)) throw new InvalidResultsError(`${source}: not a run record:\n${formatProblems(schemaProblems('run', check.errors))}`);
  const problems = data.migration ? unlistedProblems(data.migration) : [];
  const key = runKey(data.profile, data.workload, data.strategy, data.repetition);
  if (data.key !== key) problems.push(`key ${data.key} but its profile, workload, strategy and repetition make ${key}`);
  if (data.timeline !== timelinePath(data.key)) problems.push(`timeline ${data.timeline}, not ${timelinePath(data.key)}`);
  if (data.migration && data.migration.outcome !== data.outcome) problems.push(`outcome ${data.outcome} but the migration's is ${data.migration.outcome}`);
  const killed = data.controllerKilled;
  if (killed && data.migration) problems.push('a run has either the migration record or controllerKilled (its controller died before writing one), not both');
  if (killed) {
    const where = { migrated: data.to, 'rolled-back': data.from, failed: undefined }[data.outcome];
    if (where && killed.recovery.runningOn !== where)
      problems.push(`outcome ${data.outcome} but recover left the container on ${killed.recovery.runningOn ?? 'no edge'}, not ${where}`);
  }
  if (problems.length) throw new InvalidResultsError(`${source}: ${problems.join('; ')}`);
  return data;
}

export const RUNS_FILE = 'runs.jsonl';
export const TIMELINES_DIR = 'timelines';

/** A results directory is read up to these; the README states them. */
export const RESULTS_LIMITS = {
  /** runs.jsonl: 100,000 runs of the smoke plan take 576 MB. */
  maxFileBytes: 2 * 1024 ** 3,
  /** One run record; the largest written here is under 20 kB. */
  maxLineBytes: 1024 ** 2,
  /** Runs kept in memory at once. */
  maxRuns: 200_000,
} as const;

export interface ResultsReading<T> {
  /** One per run key, the first line that has it, in file order. */
  runs: T[];
  /** Lines that were read whole. */
  lines: number;
  /** The file ended in a line without its line break (a runner killed while writing); it was left out. */
  tornTail: boolean;
  /** Bytes up to the end of the last whole line: where a torn tail starts. */
  wholeBytes: number;
  /** Keys on more than one line: the first is kept, the others named. */
  duplicates: { key: string; lines: number[] }[];
  /** Runs whose key the plan does not have: left out, named. */
  foreign: { key: string; line: number }[];
}

/**
 * Each JSON record of a JSON-lines results file, streamed: a line that is not
 * JSON, or a record past `maxRecords` (every one counts, kept or not:
 * duplicates and foreign ones take memory too), is an InvalidResultsError
 * naming it. Returns what forEachLine saw, and where the last whole line ends
 * (where a torn tail starts).
 */
export function forEachJsonRecord(
  path: string,
  o: { what: string; flag: string; maxRecords: number; records: string },
  onRecord: (data: unknown, source: string, line: number) => void,
): { lines: number; tornTail: boolean; wholeBytes: number } {
  let wholeBytes = 0;
  let records = 0;
  const limits = { what: o.what, key: o.flag, maxBytes: RESULTS_LIMITS.maxFileBytes, maxLineBytes: RESULTS_LIMITS.maxLineBytes };
  const read = forEachLine(path, limits, (line, n, endByte) => {
    wholeBytes = endByte;
    if (line.trim() === '') return;
    let data: unknown;
    try {
      data = parseJsonInput(line, `${path}:${n}`, o.flag);
    } catch (e) {
      throw new InvalidResultsError((e as Error).message, o.flag);
    }
    if (++records > o.maxRecords) throw new InvalidResultsError(`${path}: more than ${o.maxRecords} ${o.records}; not read further`, o.flag);
    onRecord(data, `${path}:${n}`, n);
  });
  return { ...read, wholeBytes };
}

/**
 * The runs of a results directory, streamed: each line checked against the
 * run schema (a bad line is an InvalidResultsError naming its number), and
 * only what `keep` returns of it held in memory. With `planned`, runs whose
 * key is not in it are left out and named.
 */
export function readResults<T>(dir: string, o: { flag: string; keep: (run: RunRecord) => T; planned?: ReadonlySet<string> }): ResultsReading<T> {
  const path = join(dir, RUNS_FILE);
  const reading: ResultsReading<T> = { runs: [], lines: 0, tornTail: false, wholeBytes: 0, duplicates: [], foreign: [] };
  if (!existsSync(path)) return reading;
  const firstLine = new Map<string, number>();
  const duplicateOf = new Map<string, { key: string; lines: number[] }>();
  const limits = { what: 'results file', flag: o.flag, maxRecords: RESULTS_LIMITS.maxRuns, records: 'runs' };
  const read = forEachJsonRecord(path, limits, (data, source, n) => {
    const run = validateRun(data, source);
    const first = firstLine.get(run.key);
    if (first !== undefined) {
      const dup = duplicateOf.get(run.key);
      if (dup) dup.lines.push(n);
      else {
        const found = { key: run.key, lines: [first, n] };
        duplicateOf.set(run.key, found);
        reading.duplicates.push(found);
      }
      return;
    }
    firstLine.set(run.key, n);
    if (o.planned && !o.planned.has(run.key)) {
      reading.foreign.push({ key: run.key, line: n });
      return;
    }
    reading.runs.push(o.keep(run));
  });
  reading.lines = read.lines;
  reading.tornTail = read.tornTail;
  reading.wholeBytes = read.wholeBytes;
  return reading;
}

/** Notes of each kind listed one by one; past this many, the rest are counted. */
const MAX_NOTES_EACH = 100;

/** What a reading found wrong with the directory, one sentence each (empty when nothing). */
export function integrityNotes(r: ResultsReading<unknown>): string[] {
  const listed = <T>(items: readonly T[], say: (item: T) => string, more: string): string[] => [
    ...items.slice(0, MAX_NOTES_EACH).map(say),
    ...(items.length > MAX_NOTES_EACH ? [`… and ${items.length - MAX_NOTES_EACH} more ${more}`] : []),
  ];
  return [
    ...(r.tornTail ? ['1 torn line at the end (a run killed while writing), ignored'] : []),
    ...listed(
      r.duplicates,
      (d) => `run ${d.key} is on lines ${d.lines.slice(0, 10).join(', ')}${d.lines.length > 10 ? ', …' : ''}: the first is kept, the others ignored`,
      'runs on more than one line',
    ),
    ...listed(r.foreign, (f) => `run ${f.key} (line ${f.line}) is not in the plan: ignored`, 'runs not in the plan'),
  ];
}

/** Every run record, checked (tests and tools; a report keeps less). */
export function readRuns(dir: string): { runs: RunRecord[]; tornTail: boolean } {
  const r = readResults(dir, { flag: 'dir', keep: (run) => run });
  return { runs: r.runs, tornTail: r.tornTail };
}

/** Cuts a torn last line off a results file (runs.jsonl by default; at `wholeBytes`, from its reading), so the next append starts a line of its own. */
export function dropTornTail(dir: string, wholeBytes: number, file = RUNS_FILE): void {
  truncateSync(join(dir, file), wholeBytes);
}

function writeDurably(path: string, text: string, flags: 'a' | 'w'): void {
  const fd = openSync(path, flags, 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** One line appended and flushed to disk before this returns. */
export function appendDurably(path: string, text: string): void {
  writeDurably(path, text, 'a');
}

export function timelinePath(key: string): string {
  return `${TIMELINES_DIR}/${key.replaceAll('/', '_')}.json`;
}

/** The run's timeline first, then its line: a line in runs.jsonl always has its timeline. */
export function appendRun(dir: string, run: RunRecord, timeline: ProbeTimeline): void {
  validateRun(JSON.parse(JSON.stringify(run)), `run ${run.key}`);
  mkdirSync(join(dir, TIMELINES_DIR), { recursive: true });
  // Tenths of a millisecond: the clocks say no more, and the file is half the size.
  const tenths = (xs: number[]) => xs.map((x) => Math.round(x * 10) / 10);
  writeFileSync(join(dir, run.timeline), `${JSON.stringify({ sentMs: tenths(timeline.sentMs), latencyMs: tenths(timeline.latencyMs) })}\n`);
  writeDurably(join(dir, RUNS_FILE), `${JSON.stringify(run)}\n`, 'a');
}

export function writeJsonDurably(path: string, data: unknown): void {
  writeDurably(`${path}.tmp`, `${JSON.stringify(data, null, 2)}\n`, 'w');
  // rename is atomic: a reader sees the old file or the new one.
  renameSync(`${path}.tmp`, path);
}
