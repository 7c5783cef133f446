// What an experiment writes: one run record per line in DIR/runs.jsonl,
// appended (and flushed to disk) as soon as the run ends, so a killed runner
// loses at most the run it was in; each run's probe timeline beside it.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { ConfigError } from '../common/errors.js';
import { formatProblems, newAjv, schemaProblems } from '../common/input/ajv.js';
import { MigrationRecordSchema, STRATEGY_NAMES } from '../migration/record/schema.js';
import { unlistedProblems } from '../migration/record/validate.js';
import { ClientReportSchema, WORKLOAD_NAMES } from '../workloads/types.js';
import { ProbeReportSchema, type ProbeTimeline } from './probe.js';

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
    key: Type.String({ minLength: 1 }),
    index: Type.Integer({ minimum: 1 }),
    experiment: Type.String(),
    profile: Type.String(),
    workload: Type.Union(WORKLOAD_NAMES.map((w) => Type.Literal(w))),
    strategy: Type.Union(STRATEGY_NAMES.map((s) => Type.Literal(s))),
    repetition: Type.Integer({ minimum: 1 }),
    container: Type.String(),
    from: Type.String(),
    to: Type.String(),
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
    /** The probe's full timeline, relative to DIR. */
    timeline: Type.String(),
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

/** The runs of a results directory, each checked. A torn last line (a runner killed mid-write) is left out, and reported. */
export function readRuns(dir: string): { runs: RunRecord[]; tornTail: boolean } {
  const path = join(dir, RUNS_FILE);
  if (!existsSync(path)) return { runs: [], tornTail: false };
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const tornTail = lines.at(-1) !== '';
  const complete = tornTail ? lines.slice(0, -1) : lines;
  const runs = complete.flatMap((line, i) => {
    if (line.trim() === '') return [];
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch {
      throw new InvalidResultsError(`${path}:${i + 1}: not JSON`);
    }
    return [validateRun(data, `${path}:${i + 1}`)];
  });
  return { runs, tornTail };
}

/** Cuts a torn last line off runs.jsonl, so the next append starts a line of its own. */
export function dropTornTail(dir: string): void {
  const path = join(dir, RUNS_FILE);
  const text = readFileSync(path, 'utf8');
  truncateSync(path, Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1)));
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
