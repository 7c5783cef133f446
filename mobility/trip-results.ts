// What a trip run writes: DIR/trip.jsonl, one record per probe window and
// per handover as each ends, and one `trip` record when the trip is over.
// A trip's records share an attempt id: a trip cut short (the runner
// killed) has no `trip` record, its attempt is ignored and the trip is
// made again. Read back as input: every line checked, with limits.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { formatProblems, newAjv, schemaProblems } from '../common/input/ajv.js';
import { CONTAINER_NAME_PATTERN, NODE_NAME_PATTERN } from '../common/input/patterns.js';
import { MigrationRecordSchema } from '../migration/record/schema.js';
import { ProbeReportSchema } from '../experiment/probe.js';
import { PROFILE_NAME_PATTERN } from '../experiment/profiles.js';
import { appendDurably, forEachJsonRecord, InvalidResultsError, RESULTS_LIMITS } from '../experiment/results.js';
import { ClientReportSchema } from '../workloads/types.js';
import { TRIP_NAME_PATTERN, tripKey } from './trip-plan.js';

export const TRIP_FILE = 'trip.jsonl';

const NAME = TRIP_NAME_PATTERN.slice(1, -1);
/** trace/policy/strategy/repetition, as tripKey makes it. */
const TRIP_KEY_PATTERN = `^${NAME}/${NAME}/${NAME}/[1-9][0-9]{0,5}$`;
const Key = Type.String({ pattern: TRIP_KEY_PATTERN });
const Attempt = Type.String({ pattern: '^[0-9a-f]{12}$' });
const Node = Type.String({ pattern: NODE_NAME_PATTERN });
const Seconds = Type.Number({ minimum: 0, maximum: 1e7 });
const Ms = Type.Number({ minimum: 0, maximum: 1e9 });

/** A stretch of the trip between two positions of the trace. */
export const WindowRecordSchema = Type.Object(
  {
    kind: Type.Literal('window'),
    key: Key,
    attempt: Attempt,
    /** Trip time (s from the trace's first position) at its start and end. */
    t0: Seconds,
    t1: Seconds,
    /** The user's position at its end (the trace's coordinates, m). */
    x: Type.Number(),
    y: Type.Number(),
    userCell: Type.Union([Node, Type.Null()]),
    /** Where the service ran at the window's start (a move that ended in it is in its handover record). */
    serviceEdge: Node,
    migrating: Type.Boolean(),
    /** The emulated round trip applied (ms): radio plus backhaul hops; null when the user had no cell. */
    rttMs: Type.Union([Ms, Type.Null()]),
    /** Time in it the service probe went unanswered for a stretch of UNANSWERED_MS or more (ms). */
    unavailableMs: Ms,
    sent: Type.Integer({ minimum: 0 }),
    answered: Type.Integer({ minimum: 0 }),
    /** The probe's median answer time in it (a new TCP connection and one request: about two round trips). */
    medianAnswerMs: Type.Union([Ms, Type.Null()]),
  },
  { additionalProperties: false },
);
export type WindowRecord = Static<typeof WindowRecordSchema>;

export const HandoverRecordSchema = Type.Object(
  {
    kind: Type.Literal('handover'),
    key: Key,
    attempt: Attempt,
    from: Node,
    to: Node,
    /** The policy's reason, or "chained after an overrun". */
    why: Type.String({ maxLength: 500 }),
    /** Trip time it started and ended. */
    startT: Seconds,
    endT: Seconds,
    outcome: Type.Union([Type.Literal('migrated'), Type.Literal('rolled-back'), Type.Literal('failed'), Type.Literal('aborted')]),
    /** What was done when the user crossed another border while it ran. */
    overrun: Type.Optional(Type.Union([Type.Literal('abort'), Type.Literal('chain'), Type.Literal('skip')])),
    /** The service probe's longest stretch without an answer from its start to its end (ms). */
    serviceDowntimeMs: Ms,
    migration: Type.Optional(MigrationRecordSchema),
    error: Type.Optional(Type.String({ maxLength: 4000 })),
  },
  { additionalProperties: false },
);
export type HandoverRecord = Static<typeof HandoverRecordSchema>;

export const TripRecordSchema = Type.Object(
  {
    kind: Type.Literal('trip'),
    key: Key,
    attempt: Attempt,
    index: Type.Integer({ minimum: 1 }),
    plan: Type.String({ pattern: PROFILE_NAME_PATTERN }),
    trace: Type.String({ pattern: TRIP_NAME_PATTERN }),
    policy: Type.String({ pattern: TRIP_NAME_PATTERN }),
    strategy: Type.String({ pattern: TRIP_NAME_PATTERN }),
    repetition: Type.Integer({ minimum: 1 }),
    container: Type.String({ pattern: CONTAINER_NAME_PATTERN }),
    startEdge: Node,
    endEdge: Node,
    startedAt: Type.String({ format: 'date-time' }),
    endedAt: Type.String({ format: 'date-time' }),
    durationS: Seconds,
    speedup: Type.Number({ minimum: 0.1, maximum: 100 }),
    budgetMs: Type.Number({ exclusiveMinimum: 0, maximum: 10_000 }),
    latency: Type.Object({ name: Type.String({ pattern: PROFILE_NAME_PATTERN }), radioMs: Ms, perHopMs: Ms }, { additionalProperties: false }),
    /** 'completed': the trip ran to its end; 'failed': it stopped early (error says why). */
    outcome: Type.Union([Type.Literal('completed'), Type.Literal('failed')]),
    /** Absent when the trip stopped before its probe started. */
    probe: Type.Optional(ProbeReportSchema),
    client: Type.Optional(ClientReportSchema),
    state: Type.Object({ before: Type.String(), after: Type.Optional(Type.String()), problem: Type.Optional(Type.String()) }, { additionalProperties: false }),
    error: Type.Optional(Type.String({ maxLength: 4000 })),
  },
  { additionalProperties: false },
);
export type TripRecord = Static<typeof TripRecordSchema>;

export type TripLine = WindowRecord | HandoverRecord | TripRecord;

const checkLine = newAjv().compile<TripLine>(Type.Union([WindowRecordSchema, HandoverRecordSchema, TripRecordSchema]));

export function validateTripLine(data: unknown, source: string): TripLine {
  if (!checkLine(data)) throw new InvalidResultsError(`${source}: not a trip record:\n${formatProblems(schemaProblems('record', checkLine.errors))}`);
  const problems: string[] = [];
  if (data.kind === 'window' && data.t1 < data.t0) problems.push(`window ends (${data.t1} s) before it starts (${data.t0} s)`);
  if (data.kind === 'window' && data.answered > data.sent) problems.push(`${data.answered} answers to ${data.sent} requests`);
  if (data.kind === 'handover' && data.endT < data.startT) problems.push(`handover ends (${data.endT} s) before it starts (${data.startT} s)`);
  if (data.kind === 'handover' && data.migration && data.outcome !== 'aborted' && data.migration.outcome !== data.outcome)
    problems.push(`outcome ${data.outcome} but the migration's is ${data.migration.outcome}`);
  if (data.kind === 'trip' && data.key !== tripKey(data.trace, data.policy, data.strategy, data.repetition))
    problems.push(`key ${data.key} but its trace, policy, strategy and repetition make ${tripKey(data.trace, data.policy, data.strategy, data.repetition)}`);
  if (problems.length) throw new InvalidResultsError(`${source}: ${problems.join('; ')}`);
  return data;
}

/** One finished trip: its `trip` record with its windows and handovers. */
export interface FinishedTrip {
  trip: TripRecord;
  windows: WindowRecord[];
  handovers: HandoverRecord[];
}

export interface TripReading {
  /** The first finished attempt of each key, in the order they finished. */
  trips: FinishedTrip[];
  tornTail: boolean;
  wholeBytes: number;
  /** Attempts without a `trip` record (cut short), or later finished attempts of a key already finished: left out. */
  leftOut: { key: string; attempt: string; why: string }[];
  /** Keys the plan does not have: left out. */
  foreign: string[];
}

/** The trips of DIR/trip.jsonl, streamed and checked line by line (an InvalidResultsError names the line). */
export function readTrips(dir: string, o: { flag: string; planned?: ReadonlySet<string> }): TripReading {
  const path = join(dir, TRIP_FILE);
  const reading: TripReading = { trips: [], tornTail: false, wholeBytes: 0, leftOut: [], foreign: [] };
  if (!existsSync(path)) return reading;
  // Records of attempts whose trip record has not come yet, by key and attempt.
  const open = new Map<string, { key: string; attempt: string; windows: WindowRecord[]; handovers: HandoverRecord[] }>();
  const closed = new Set<string>();
  const keysRead = new Set<string>();
  const foreign = new Set<string>();
  const limits = { what: 'trip results file', flag: o.flag, maxRecords: RESULTS_LIMITS.maxRuns * 10, records: 'records' };
  const read = forEachJsonRecord(path, limits, (data, source) => {
    const rec = validateTripLine(data, source);
    if (o.planned && !o.planned.has(rec.key)) {
      foreign.add(rec.key);
      return;
    }
    const id = `${rec.key} ${rec.attempt}`;
    if (closed.has(id)) throw new InvalidResultsError(`${source}: a record of trip ${rec.key} after its trip record`, o.flag);
    let t = open.get(id);
    if (!t) {
      t = { key: rec.key, attempt: rec.attempt, windows: [], handovers: [] };
      open.set(id, t);
    }
    if (rec.kind === 'window') t.windows.push(rec);
    else if (rec.kind === 'handover') t.handovers.push(rec);
    else {
      open.delete(id);
      closed.add(id);
      if (keysRead.has(rec.key)) reading.leftOut.push({ key: rec.key, attempt: rec.attempt, why: 'a second finished attempt' });
      else reading.trips.push({ trip: rec, windows: t.windows, handovers: t.handovers });
      keysRead.add(rec.key);
    }
  });
  for (const t of open.values()) reading.leftOut.push({ key: t.key, attempt: t.attempt, why: 'cut short' });
  reading.foreign = [...foreign];
  reading.tornTail = read.tornTail;
  reading.wholeBytes = read.wholeBytes;
  return reading;
}

/** What a reading left out, one sentence each. */
export function tripIntegrityNotes(r: TripReading): string[] {
  return [
    ...(r.tornTail ? ['1 torn line at the end (a runner killed while writing), ignored'] : []),
    ...r.leftOut.slice(0, 100).map((l) => `trip ${l.key} attempt ${l.attempt}: ${l.why}, ignored`),
    ...r.foreign.slice(0, 100).map((k) => `trip ${k} is not in the plan: ignored`),
  ];
}

export function appendTripLine(dir: string, rec: TripLine): void {
  validateTripLine(JSON.parse(JSON.stringify(rec)), `trip record of ${rec.key}`);
  appendDurably(join(dir, TRIP_FILE), `${JSON.stringify(rec)}\n`);
}
