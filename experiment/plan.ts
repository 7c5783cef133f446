// An experiment plan: strategies × workloads × network profiles ×
// repetitions. Read from YAML, checked in one place (the schema, then each
// workload's parameters against that workload's own schema, then names),
// before anything is created: a bad plan is a ConfigError naming its key.
import { type Static, Type } from '@sinclair/typebox';
import { ConfigError } from '../common/errors.js';
import { formatProblems, newAjv, schemaProblems, type SchemaProblem } from '../common/input/ajv.js';
import { clip } from '../common/input/clip.js';
import { readYamlInput } from '../common/input/yaml.js';
import { StrategyNameSchema, type StrategyName } from '../migration/record/schema.js';
import { MAX_PREDUMPS, DEFAULT_PREDUMPS } from '../migration/engine/migrate.js';
import { WORKLOAD_NAMES, type WorkloadName } from '../workloads/types.js';
import { workloadNamed } from '../workloads/index.js';
import { checkFault, FaultSpecSchema, type FaultSpec } from './faults.js';
import { BUILTIN_PROFILES, PROFILE_NAME_PATTERN, ProfileSchema, type Profile } from './profiles.js';

export const DEFAULT_REPETITIONS = 10; // as the paper
export const DEFAULT_PROBE = { intervalMs: 10, timeoutMs: 1000 };

const WorkloadEntry = Type.Object(
  {
    name: Type.Union(WORKLOAD_NAMES.map((w) => Type.Literal(w))),
    /** The workload's parameters; missing ones take its defaults. */
    params: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { additionalProperties: false },
);

export const PlanSchema = Type.Object(
  {
    planVersion: Type.Literal(1),
    name: Type.String({ pattern: PROFILE_NAME_PATTERN, description: 'lower-case letters, digits, dashes' }),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    repetitions: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    predumps: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_PREDUMPS })),
    strategies: Type.Array(StrategyNameSchema, { minItems: 1, uniqueItems: true }),
    workloads: Type.Array(WorkloadEntry, { minItems: 1, maxItems: 20 }),
    /** Built-in profile names, or profiles of the plan's own. */
    profiles: Type.Array(Type.Union([Type.String({ pattern: PROFILE_NAME_PATTERN }), ProfileSchema]), { minItems: 1, maxItems: 20 }),
    probe: Type.Optional(
      Type.Object(
        {
          intervalMs: Type.Integer({ minimum: 1, maximum: 1000 }),
          timeoutMs: Type.Integer({ minimum: 10, maximum: 10_000 }),
        },
        { additionalProperties: false },
      ),
    ),
    /** A fault injected into every run (experiment/faults.ts): the runs measure behaviour under it. */
    fault: Type.Optional(FaultSpecSchema),
  },
  { additionalProperties: false },
);
export type PlanFile = Static<typeof PlanSchema>;

/** A plan with every default filled in and every name resolved. */
export interface Plan {
  name: string;
  description?: string;
  repetitions: number;
  predumps: number;
  strategies: StrategyName[];
  workloads: { name: WorkloadName; params: Record<string, unknown> }[];
  profiles: Profile[];
  probe: { intervalMs: number; timeoutMs: number };
  fault?: FaultSpec;
}

/** One migration of the experiment. `key` is unique in it and stable across resumptions. */
export interface PlannedRun {
  key: string;
  /** 1-based position in the plan's order. */
  index: number;
  profile: string;
  workload: WorkloadName;
  strategy: StrategyName;
  repetition: number;
}

const check = newAjv().compile<PlanFile>(PlanSchema);

function fail(source: string, problems: SchemaProblem[]): never {
  throw new ConfigError(`${source}: the plan is not valid:\n${formatProblems(problems)}`, problems[0]?.key ?? 'plan');
}

/** Checks a parsed plan document; ConfigError naming the first bad key. */
export function resolvePlan(doc: unknown, source = 'plan'): Plan {
  if (!check(doc)) fail(source, schemaProblems('plan', check.errors));
  const problems: SchemaProblem[] = [];
  const workloads = doc.workloads.map((w, i) => {
    const workload = workloadNamed(w.name);
    const params = { ...workload.defaults, ...(w.params ?? {}) };
    const checkParams = newAjv().compile(workload.params);
    if (!checkParams(params)) problems.push(...schemaProblems(`plan.workloads[${i}].params`, checkParams.errors));
    return { name: w.name, params };
  });
  const seenWorkloads = new Set<string>();
  doc.workloads.forEach((w, i) => {
    if (seenWorkloads.has(w.name)) problems.push({ key: `plan.workloads[${i}].name`, text: `plan.workloads[${i}].name: "${w.name}" is listed twice` });
    seenWorkloads.add(w.name);
  });
  const profiles = doc.profiles.flatMap((p, i): Profile[] => {
    if (typeof p !== 'string') return [p];
    const found = BUILTIN_PROFILES.find((b) => b.name === p);
    if (found) return [found];
    problems.push({
      key: `plan.profiles[${i}]`,
      text: `plan.profiles[${i}] = "${clip(p, 40)}": no such profile; built in: ${BUILTIN_PROFILES.map((b) => b.name).join(', ')}, or give {name, rateMbit, …}`,
    });
    return [];
  });
  const seenProfiles = new Set<string>();
  profiles.forEach((p, i) => {
    if (seenProfiles.has(p.name)) problems.push({ key: `plan.profiles[${i}]`, text: `plan.profiles[${i}]: profile "${p.name}" is listed twice` });
    seenProfiles.add(p.name);
  });
  if (problems.length) fail(source, problems);
  if (doc.fault) checkFault(doc.fault, doc.strategies, doc.predumps ?? DEFAULT_PREDUMPS, 'plan.fault');
  return {
    name: doc.name,
    ...(doc.description ? { description: doc.description } : {}),
    repetitions: doc.repetitions ?? DEFAULT_REPETITIONS,
    predumps: doc.predumps ?? DEFAULT_PREDUMPS,
    strategies: [...doc.strategies],
    workloads,
    profiles,
    probe: doc.probe ?? DEFAULT_PROBE,
    ...(doc.fault ? { fault: { ...doc.fault } } : {}),
  };
}

export function readPlan(path: string): Plan {
  return resolvePlan(readYamlInput(path, { what: 'plan', key: 'plan' }), path);
}

/**
 * Every run in order: per profile, per workload, repetition by repetition,
 * each strategy in turn (so strategies are compared under the same
 * conditions, and each container alternates direction run by run).
 */
export function plannedRuns(plan: Plan): PlannedRun[] {
  const runs: PlannedRun[] = [];
  for (const p of plan.profiles)
    for (const w of plan.workloads)
      for (let r = 1; r <= plan.repetitions; r++)
        for (const s of plan.strategies)
          runs.push({ key: runKey(p.name, w.name, s, r), index: runs.length + 1, profile: p.name, workload: w.name, strategy: s, repetition: r });
  return runs;
}

export function runKey(profile: string, workload: string, strategy: string, repetition: number): string {
  return `${profile}/${workload}/${strategy}/${repetition}`;
}
