// A trip plan: traces × handover policies × strategies × repetitions, read
// from YAML (or made from `follow`'s flags) and checked in one place before
// anything is created. Each policy is paired with the strategies whose
// storage it can use: `stay` moves nothing, `reactive` (unknown path) the
// shared-storage ones, `predictive` (known path) the copied ones.
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { ConfigError } from '../common/errors.js';
import { formatProblems, newAjv, schemaProblems, type SchemaProblem } from '../common/input/ajv.js';
import { readYamlInput } from '../common/input/yaml.js';
import { DEFAULT_PREDUMPS, MAX_PREDUMPS } from '../migration/engine/migrate.js';
import { StrategyNameSchema, type StrategyName } from '../migration/record/schema.js';
import { strategyNamed } from '../migration/strategies/index.js';
import { DEFAULT_PROBE } from '../experiment/plan.js';
import { PROFILE_NAME_PATTERN } from '../experiment/profiles.js';
import { workloadNamed } from '../workloads/index.js';
import { WORKLOAD_NAMES, type WorkloadName } from '../workloads/types.js';
import { HANDOVER_POLICIES, type HandoverPolicy } from './policies/registry.js';

/** The paper's 5G target for the user's round trip. */
export const DEFAULT_BUDGET_MS = 10;
/** What a migration is taken to last before one was measured (wall seconds; TCG's fast strategies take 15–25 s here). */
export const DEFAULT_FIRST_GUESS_S = 25;
/** A name in a trip key: a trace's, a policy's, a strategy's. */
export const TRIP_NAME_PATTERN = '^[a-z][a-z0-9-]{0,31}$';
/** `stay` moves nothing: its key's strategy. */
export const NO_STRATEGY = 'none';

export const TripPlanSchema = Type.Object(
  {
    tripPlanVersion: Type.Literal(1),
    name: Type.String({ pattern: PROFILE_NAME_PATTERN, description: 'lower-case letters, digits, dashes' }),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    traces: Type.Array(
      Type.Object(
        {
          /** Relative to the plan's directory, and inside it. */
          file: Type.String({ minLength: 1, maxLength: 4096 }),
          /** How the trace is called in keys and the report; default: its file name's letters. */
          name: Type.Optional(Type.String({ pattern: TRIP_NAME_PATTERN })),
          vehicle: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 20 },
    ),
    policies: Type.Array(Type.Union(HANDOVER_POLICIES.map((p) => Type.Literal(p.name))), { minItems: 1, uniqueItems: true }),
    /** Paired with each policy that moves, by storage; `stay` needs none. */
    strategies: Type.Optional(Type.Array(StrategyNameSchema, { minItems: 1, uniqueItems: true })),
    repetitions: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    workload: Type.Optional(
      Type.Object(
        { name: Type.Union(WORKLOAD_NAMES.map((w) => Type.Literal(w))), params: Type.Optional(Type.Record(Type.String(), Type.Unknown())) },
        { additionalProperties: false },
      ),
    ),
    /** The stack's latency profile to emulate; default its first. */
    latency: Type.Optional(Type.String({ pattern: PROFILE_NAME_PATTERN })),
    budgetMs: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10_000 })),
    /** Trip seconds per wall second: a long trip replayed faster (migrations are not). */
    speedup: Type.Optional(Type.Number({ minimum: 0.1, maximum: 100 })),
    predumps: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_PREDUMPS })),
    /** The lead time's migration time before any was measured, wall seconds. */
    firstGuessS: Type.Optional(Type.Number({ minimum: 1, maximum: 3600 })),
    probe: Type.Optional(
      Type.Object(
        { intervalMs: Type.Integer({ minimum: 1, maximum: 1000 }), timeoutMs: Type.Integer({ minimum: 10, maximum: 10_000 }) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type TripPlanFile = Static<typeof TripPlanSchema>;

export interface TripTrace {
  name: string;
  /** Absolute. */
  file: string;
  vehicle?: string;
}

export interface TripPlan {
  name: string;
  description?: string;
  traces: TripTrace[];
  policies: string[];
  strategies: StrategyName[];
  repetitions: number;
  workload: { name: WorkloadName; params: Record<string, unknown> };
  latency?: string;
  budgetMs: number;
  speedup: number;
  predumps: number;
  firstGuessS: number;
  probe: { intervalMs: number; timeoutMs: number };
}

/** One trip of the plan. `key` is unique in it and stable across resumptions. */
export interface PlannedTrip {
  key: string;
  index: number;
  trace: string;
  policy: string;
  /** NO_STRATEGY for a policy that never moves. */
  strategy: string;
  repetition: number;
}

const check = newAjv().compile<TripPlanFile>(TripPlanSchema);

const policyOf = (name: string): HandoverPolicy => HANDOVER_POLICIES.find((p) => p.name === name)!;

/** The plan's strategies a policy's moves can use. */
export function strategiesFor(policy: HandoverPolicy, strategies: readonly StrategyName[]): string[] {
  if (policy.storage === 'none') return [NO_STRATEGY];
  return strategies.filter((s) => strategyNamed(s).storage.needsShare === (policy.storage === 'shared'));
}

/** A trace's default name: its file name's letters and digits, lower-case. */
export function traceNameOf(file: string): string {
  const stem = basename(file)
    .replace(/\.[^.]*$/, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const name = /^[a-z]/.test(stem) ? stem : `trace-${stem}`;
  return name.slice(0, 32).replace(/-+$/, '') || 'trace';
}

function fail(source: string, problems: SchemaProblem[]): never {
  throw new ConfigError(`${source}: the trip plan is not valid:\n${formatProblems(problems)}`, problems[0]?.key ?? 'plan');
}

/**
 * Checks a parsed trip plan. Trace files are relative to `baseDir` and must
 * stay inside it (a plan from elsewhere cannot name any file of this
 * machine); `follow --trace` gives its own file, already absolute.
 */
export function resolveTripPlan(doc: unknown, source: string, baseDir: string, o: { tracesAnywhere?: boolean } = {}): TripPlan {
  if (!check(doc)) fail(source, schemaProblems('plan', check.errors));
  const problems: SchemaProblem[] = [];
  const traces = doc.traces.map((t, i): TripTrace => {
    const file = resolve(baseDir, t.file);
    const rel = relative(baseDir, file);
    if (!o.tracesAnywhere && (rel.startsWith('..') || isAbsolute(rel)))
      problems.push({ key: `plan.traces[${i}].file`, text: `plan.traces[${i}].file: ${t.file} is outside the plan's directory ${baseDir}` });
    return { name: t.name ?? traceNameOf(t.file), file, ...(t.vehicle !== undefined ? { vehicle: t.vehicle } : {}) };
  });
  const seen = new Set<string>();
  traces.forEach((t, i) => {
    if (seen.has(t.name))
      problems.push({ key: `plan.traces[${i}].name`, text: `plan.traces[${i}]: a second trace called "${t.name}"; give each its own name` });
    seen.add(t.name);
  });
  const strategies = [...(doc.strategies ?? [])];
  doc.policies.forEach((name, i) => {
    const p = policyOf(name);
    if (strategiesFor(p, strategies).length === 0)
      problems.push({
        key: `plan.policies[${i}]`,
        text: `plan.policies[${i}] = ${name} moves on ${p.storage} storage, and plan.strategies has no such strategy (${strategies.join(', ') || 'none'})`,
      });
  });
  const w = doc.workload ?? { name: 'video' as const };
  const workload = workloadNamed(w.name);
  const params = { ...workload.defaults, ...(w.params ?? {}) };
  const checkParams = newAjv().compile(workload.params);
  if (!checkParams(params)) problems.push(...schemaProblems('plan.workload.params', checkParams.errors));
  if (problems.length) fail(source, problems);
  return {
    name: doc.name,
    ...(doc.description ? { description: doc.description } : {}),
    traces,
    policies: [...doc.policies],
    strategies,
    repetitions: doc.repetitions ?? 1,
    workload: { name: w.name, params },
    ...(doc.latency ? { latency: doc.latency } : {}),
    budgetMs: doc.budgetMs ?? DEFAULT_BUDGET_MS,
    speedup: doc.speedup ?? 1,
    predumps: doc.predumps ?? DEFAULT_PREDUMPS,
    firstGuessS: doc.firstGuessS ?? DEFAULT_FIRST_GUESS_S,
    probe: doc.probe ?? DEFAULT_PROBE,
  };
}

export function readTripPlan(path: string): TripPlan {
  return resolveTripPlan(readYamlInput(path, { what: 'trip plan', key: 'plan' }), path, dirname(resolve(path)));
}

/** Every trip in order: per trace, repetition by repetition, each policy with each of its strategies in turn. */
export function plannedTrips(plan: TripPlan): PlannedTrip[] {
  const trips: PlannedTrip[] = [];
  for (const t of plan.traces)
    for (let r = 1; r <= plan.repetitions; r++)
      for (const p of plan.policies)
        for (const s of strategiesFor(policyOf(p), plan.strategies))
          trips.push({ key: tripKey(t.name, p, s, r), index: trips.length + 1, trace: t.name, policy: p, strategy: s, repetition: r });
  return trips;
}

export function tripKey(trace: string, policy: string, strategy: string, repetition: number): string {
  return `${trace}/${policy}/${strategy}/${repetition}`;
}
