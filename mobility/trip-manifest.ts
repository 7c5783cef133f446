// DIR/manifest.json of a trip run: as an experiment's (the testbed, the
// versions of everything, followme's own), plus the trip plan, the road (the
// cells and the emulated latency profile) and each trace as read (its hash,
// format, vehicle, duration and length), so the report needs nothing else.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { type Static, Type } from '@sinclair/typebox';
import { ConfigError } from '../common/errors.js';
import { formatProblems, newAjv, schemaProblems } from '../common/input/ajv.js';
import { parseJsonInput } from '../common/input/json.js';
import { NODE_NAME_PATTERN } from '../common/input/patterns.js';
import { readInputFile } from '../common/input/read.js';
import type { Inventory } from '../common/inventory.js';
import type { Cell } from '../common/road-cells.js';
import { controllerFacts, followmeIdentity, MANIFEST_FILE, ManifestSchema, nodeFacts, testbedFacts } from '../experiment/manifest.js';
import { PROFILE_NAME_PATTERN } from '../experiment/profiles.js';
import { writeJsonDurably } from '../experiment/results.js';
import type { LatencyProfile } from './latency.js';
import { resolveTripPlan, TRIP_NAME_PATTERN, type TripPlan } from './trip-plan.js';

const Fact = Type.String({ maxLength: 1000 });
const Metres = Type.Number({ minimum: -1e8, maximum: 1e8 });

export const TripManifestSchema = Type.Object(
  {
    tripManifestVersion: Type.Literal(1),
    createdAt: Fact,
    plan: Type.Object({}),
    planFile: Type.String({ maxLength: 4096 }),
    testbed: ManifestSchema.properties.testbed,
    controller: ManifestSchema.properties.controller,
    nodes: ManifestSchema.properties.nodes,
    followme: ManifestSchema.properties.followme,
    road: Type.Object(
      {
        cells: Type.Array(
          Type.Object(
            { edge: Type.String({ pattern: NODE_NAME_PATTERN }), x: Metres, y: Metres, radiusM: Type.Number({ minimum: 0, maximum: 1e7 }) },
            {
              additionalProperties: false,
            },
          ),
          { minItems: 1, maxItems: 64 },
        ),
        latency: Type.Object(
          { name: Type.String({ pattern: PROFILE_NAME_PATTERN }), radioMs: Type.Number({ minimum: 0 }), perHopMs: Type.Number({ minimum: 0 }) },
          { additionalProperties: false },
        ),
      },
      { additionalProperties: false },
    ),
    traces: Type.Record(
      Type.String({ pattern: TRIP_NAME_PATTERN }),
      Type.Object(
        {
          file: Type.String({ maxLength: 4096 }),
          sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
          format: Fact,
          vehicle: Fact,
          points: Type.Integer({ minimum: 2 }),
          durationS: Type.Number({ minimum: 0 }),
          lengthM: Type.Number({ minimum: 0 }),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type TripManifest = Omit<Static<typeof TripManifestSchema>, 'plan'> & { plan: TripPlan };
export type TraceFacts = TripManifest['traces'][string];

const checkManifest = newAjv().compile(TripManifestSchema);

export async function newTripManifest(o: {
  plan: TripPlan;
  planFile: string;
  inventory: Inventory;
  stack?: string;
  cells: readonly Cell[];
  latency: LatencyProfile;
  traces: Record<string, TraceFacts>;
}): Promise<TripManifest> {
  return {
    tripManifestVersion: 1,
    createdAt: new Date().toISOString(),
    plan: o.plan,
    planFile: o.planFile,
    testbed: testbedFacts(o.inventory, o.stack),
    controller: await controllerFacts(),
    nodes: await nodeFacts(o.inventory),
    followme: await followmeIdentity(),
    road: { cells: o.cells.map((c) => ({ ...c })), latency: { ...o.latency } },
    traces: o.traces,
  };
}

/** The plan as its file would say it: read back by the plan's own rules. */
function planDocument(p: TripPlan): unknown {
  return {
    tripPlanVersion: 1,
    name: p.name,
    ...(p.description ? { description: p.description } : {}),
    traces: p.traces.map((t) => ({ file: t.file, name: t.name, ...(t.vehicle !== undefined ? { vehicle: t.vehicle } : {}) })),
    policies: p.policies,
    ...(p.strategies.length ? { strategies: p.strategies } : {}),
    repetitions: p.repetitions,
    workload: p.workload,
    ...(p.latency ? { latency: p.latency } : {}),
    budgetMs: p.budgetMs,
    speedup: p.speedup,
    predumps: p.predumps,
    firstGuessS: p.firstGuessS,
    probe: p.probe,
  };
}

/** Whether DIR holds a trip run's manifest (the report's choice); false for an experiment's or none. */
export function isTripManifest(data: unknown): boolean {
  return typeof data === 'object' && data !== null && 'tripManifestVersion' in data;
}

/** The raw manifest.json of DIR, parsed but not checked; undefined when absent. */
export function readManifestJson(dir: string, flag: string): unknown {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return undefined;
  return parseJsonInput(readInputFile(path, { what: 'manifest', key: flag }), path, flag);
}

/** DIR's trip manifest, checked whole (a results directory may come from anywhere); undefined when there is none. */
export function readTripManifest(dir: string, flag = 'out'): TripManifest | undefined {
  const data = readManifestJson(dir, flag);
  if (data === undefined) return undefined;
  const path = join(dir, MANIFEST_FILE);
  if (!checkManifest(data)) {
    throw new ConfigError(`${path}: not a manifest of a followme trip run:\n${formatProblems(schemaProblems('manifest', checkManifest.errors))}`, flag);
  }
  const plan = resolveTripPlan({ tripPlanVersion: 1, ...(data.plan as object) }, `${path}: manifest.plan`, '/', { tracesAnywhere: true });
  return { ...data, plan };
}

export function writeTripManifest(dir: string, m: TripManifest): void {
  writeJsonDurably(join(dir, MANIFEST_FILE), { ...m, plan: planDocument(m.plan) });
}

/** A results directory resumes only the trips it holds: the same plan, testbed and traces. */
export function checkTripResumable(existing: TripManifest, m: Pick<TripManifest, 'plan' | 'traces'>, inv: Inventory, outFlag: string): void {
  if (!isDeepStrictEqual(existing.plan, m.plan))
    throw new ConfigError(
      `--${outFlag}: holds the trips of another plan ("${existing.plan.name}" from ${existing.planFile}); use another --${outFlag}, or the same plan to resume it`,
      outFlag,
    );
  if (existing.testbed.prefix !== inv.prefix)
    throw new ConfigError(
      `--${outFlag}: its trips were made on testbed "${existing.testbed.prefix}", not "${inv.prefix}"; results of two testbeds are not mixed in one directory`,
      outFlag,
    );
  for (const [name, t] of Object.entries(m.traces)) {
    if (existing.traces[name] && existing.traces[name].sha256 !== t.sha256)
      throw new ConfigError(`--${outFlag}: trace ${name} (${t.file}) has changed since its trips there were made; use another --${outFlag}`, outFlag);
  }
}
