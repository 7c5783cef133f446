// The fault controller-killed in an experiment run: the run's migration goes
// to a child controller process (controller-child.ts), which is killed with
// SIGKILL at the fault's moment; then `recover` settles the migration from
// the journal the dead controller left, as a lab would after a crash. The
// probe and the workload's client run on in the runner throughout, so the
// run measures what the service saw of the crash and the recovery.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FollowmeError } from '../common/errors.js';
import { recover } from '../migration/engine/recover.js';
import type { EventListener } from '../migration/engine/types.js';
import { journalDirFor, unfinishedMigrations } from '../migration/journal.js';
import type { MigrationRecord } from '../migration/record/schema.js';
import type { ChildMessage, ChildRequest, Move } from './controller-child.js';
import type { FaultSpec } from './faults.js';
import type { ControllerKilled } from './results.js';

export interface KilledMigrationOptions extends Move {
  fault: FaultSpec;
  onEvent?: EventListener;
  log: (line: string) => void;
  /** The child's bound: it is killed (and recovered) if it runs longer. */
  limitMs: number;
}

/** Either the migration ended before its moment (its record), or the controller died and `recover` settled what it left. */
export type KilledMigrationResult =
  | { kind: 'ended'; record: MigrationRecord; failure?: string }
  | { kind: 'killed'; outcome: 'migrated' | 'rolled-back' | 'failed'; controllerKilled: ControllerKilled; error?: string };

const CHILD = fileURLToPath(new URL('./controller-child.js', import.meta.url));
/** What the child printed, kept for an error message. */
const STDERR_KEPT = 4000;

export async function migrateKillingController(o: KilledMigrationOptions): Promise<KilledMigrationResult> {
  const { fault, onEvent, log, limitMs, ...move } = o;
  const request: ChildRequest = { ...move, phase: fault.phase, ...(fault.afterMs ? { afterMs: fault.afterMs } : {}) };
  const child = fork(CHILD, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-STDERR_KEPT);
  });
  let killing: Extract<ChildMessage, { type: 'killing' }> | undefined;
  let ended: Extract<ChildMessage, { type: 'record' }> | undefined;
  let childError: string | undefined;
  // Events in the order sent; the runner's listener (the probe's marks, progress) is not awaited by the child.
  let events = Promise.resolve();
  child.on('message', (m: ChildMessage) => {
    if (m.type === 'event') events = events.then(() => onEvent?.(m.event)).catch(() => undefined);
    else if (m.type === 'killing') killing = m;
    else if (m.type === 'record') ended = m;
    else childError = m.message;
  });
  const overran = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.send(request);
  }).finally(() => clearTimeout(overran));
  await events;

  if (ended) return { kind: 'ended', record: ended.record, ...(ended.failure ? { failure: ended.failure } : {}) };
  const how = killing
    ? `killed with SIGKILL ${killing.afterMs} ms into "${killing.phase}"`
    : `ended without a record (${exit.signal ? `signal ${exit.signal}` : `exit ${exit.code}`}${childError ? `: ${childError}` : ''}${stderr ? `; it printed: ${stderr.trim().split('\n').slice(-3).join(' / ')}` : ''})`;
  log(`controller of the migration (pid ${child.pid}) ${how}`);

  const journalDir = journalDirFor(o.inventory.prefix);
  const entry = unfinishedMigrations(journalDir).find((e) => e.container === o.container);
  const base = { phase: fault.phase, ...(fault.afterMs ? { afterMs: fault.afterMs } : {}), ...(killing ? { pid: killing.pid } : {}), ended: how };
  // Journaled before anything is made on an edge: no entry means it died before the migration began, which is no run.
  if (!entry) throw new FollowmeError(`the migration's controller ${how}, and left no journal entry for ${o.container} in ${journalDir}`);
  log(`recovering migration ${entry.id}, left at "${entry.step}"${entry.pointOfNoReturnPassed ? ' (past the point of no return)' : ''}`);
  const started = performance.now();
  const [report] = await recover({ inventory: o.inventory, id: entry.id, log: (l) => log(`  ${l}`) });
  const ms = performance.now() - started;
  if (!report) throw new FollowmeError(`recover found no migration ${entry.id}`);
  const outcome = !report.settled || !report.runningOn ? 'failed' : report.runningOn === o.to ? 'migrated' : 'rolled-back';
  const error = !report.settled
    ? `recover could not settle migration ${entry.id}: ${report.problem ?? 'no reason given'}`
    : report.stateLost
      ? `recover settled migration ${entry.id}, but ${report.stateLost}`
      : killing
        ? undefined
        : `the migration's controller ${how}`;
  return {
    kind: 'killed',
    outcome,
    controllerKilled: {
      ...base,
      migrationId: entry.id,
      step: entry.step,
      pointOfNoReturnPassed: entry.pointOfNoReturnPassed,
      recovery: {
        found: report.found,
        did: report.did,
        ...(report.runningOn ? { runningOn: report.runningOn } : {}),
        settled: report.settled,
        ...(report.problem ? { problem: report.problem } : {}),
        ms,
      },
    },
    ...(error ? { error } : {}),
  };
}
