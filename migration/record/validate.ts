// Checks a migration record: the ajv schema, then what a schema cannot say
// (phases tile the total, downtime inside the total).
import { FollowmeError } from '../../common/errors.js';
import { formatProblems, newAjv, schemaProblems } from '../../common/input/ajv.js';
import { MigrationRecordSchema, type MigrationRecord } from './schema.js';

const check = newAjv().compile<MigrationRecord>(MigrationRecordSchema);

/** Phase times must add up to the measured total within this share. */
export const PHASE_SUM_TOLERANCE = 0.05;

export class InvalidRecordError extends FollowmeError {
  override name = 'InvalidRecordError';
}

/** When the container ran on the destination: the total, but for a post-copy move, whose lazy window comes after. */
function restoredAt(r: MigrationRecord): number {
  return r.lazy?.restoredAtMs ?? r.totalMs;
}

/** The consistency problems of a record that passed the schema; empty when sound. */
export function recordProblems(r: MigrationRecord): string[] {
  const problems: string[] = [];
  const sum = r.phases.reduce((s, p) => s + p.durationMs, 0);
  if (r.outcome === 'migrated') {
    if (Math.abs(sum - r.totalMs) > PHASE_SUM_TOLERANCE * r.totalMs) {
      problems.push(`phase times add up to ${sum.toFixed(1)} ms, not within ${PHASE_SUM_TOLERANCE * 100}% of the total ${r.totalMs.toFixed(1)} ms`);
    }
    if (r.downtimeMs === undefined) problems.push('a migrated record needs downtimeMs');
    else if (r.downtimeMs > r.totalMs) problems.push(`downtime ${r.downtimeMs} ms exceeds the total ${r.totalMs} ms`);
    else if (r.freezeAtMs !== undefined && Math.abs(r.freezeAtMs + r.downtimeMs - restoredAt(r)) > 1) {
      problems.push(
        `the freeze at ${r.freezeAtMs.toFixed(1)} ms plus the downtime ${r.downtimeMs.toFixed(1)} ms is not the restore's end at ${restoredAt(r).toFixed(1)} ms`,
      );
    }
    if (!r.iterations.some((i) => i.kind === 'dump') && !r.missing?.length) {
      problems.push('a migrated record needs the final dump among its iterations, or says in "missing" why it has none');
    }
    if (r.error) problems.push('a migrated record carries an error');
  } else if (!r.error) {
    problems.push(`outcome "${r.outcome}" needs an error`);
  }
  const preDumps = r.iterations.filter((i) => i.kind === 'pre-dump').length;
  if (preDumps > r.predumps) problems.push(`${preDumps} pre-dump iterations, more than the ${r.predumps} asked for`);
  for (const p of r.phases) {
    if (p.startMs + p.durationMs > r.totalMs * (1 + PHASE_SUM_TOLERANCE) + 1 && r.outcome === 'migrated') {
      problems.push(`phase ${p.name} ends after the total`);
    }
  }
  return problems;
}

/** Problems the record does not already own up to in `problems` (a record written by followme owns up to all of its). */
export function unlistedProblems(r: MigrationRecord): string[] {
  return recordProblems(r).filter((p) => !r.problems?.includes(p));
}

/** Reads a record: the schema, then every consistency problem it does not list itself. */
export function validateRecord(data: unknown, source = 'migration record'): MigrationRecord {
  if (!check(data)) {
    throw new InvalidRecordError(`${source}: does not match the record schema:\n${formatProblems(schemaProblems('record', check.errors))}`);
  }
  const problems = unlistedProblems(data);
  if (problems.length) throw new InvalidRecordError(`${source}: ${problems.join('; ')}`);
  return data;
}

/**
 * Writes down a record of a migration that has happened: nothing about the
 * record may turn its outcome into an error. What fails a check is listed in
 * `problems` (schema problems too: a bug, but the record is still written).
 */
export function sealRecord(data: MigrationRecord): MigrationRecord {
  const schema = check(data) ? [] : [`does not match the record schema: ${formatProblems(schemaProblems('record', check.errors)).replace(/\n/g, '; ')}`];
  const problems = [...schema, ...(schema.length ? [] : unlistedProblems(data))];
  return problems.length ? { ...data, problems: [...(data.problems ?? []), ...problems] } : data;
}
