// The engine's middle step: the phases a strategy chooses one by one, each
// timed on the controller with its commands timed on their nodes, until the
// strategy is done or a phase fails. Then CRIU's statistics of every dump,
// read outside Ψ (those of a measured round were read inside its phase).
import { FollowmeError } from '../../common/errors.js';
import { PAGE_SIZE } from '../criu/stats.js';
import type { Edge } from '../edge.js';
import type { Journal } from '../journal.js';
import type { CommandTiming, IterationRecord, PhaseRecord } from '../record/schema.js';
import type { EngineClock } from './clock.js';
import { faultPhaseMatches, type FaultHook, type History, type MigrationContext, type Phase, type StepDone, type Strategy } from './types.js';

/** A strategy that keeps choosing phases past this many is stopped (and rolled back): a bug, not a migration. */
export const MAX_PHASES = 100;

export interface PhasesRun {
  phases: PhaseRecord[];
  history: History & { steps: StepDone[] };
  /** The phase that failed, and why; undefined when the strategy finished. `afterNoReturn`: it came after the point of no return (a post-copy move's lazy window). */
  failure?: { phase: string; error: unknown; afterNoReturn?: boolean };
  /** Start and end of Ψ on the engine's clock. */
  t0: number;
  end: number;
  /** Phases whose pages left the source and whose bytes come from their dump's statistics, once read. */
  countsPages: Set<PhaseRecord>;
}

/** Puts the fault in at the start of its phase, with the clock stopped. */
export async function injectFaultAt(fault: FaultHook | undefined, clock: EngineClock, phase: string, edges: { source: Edge; dest: Edge }): Promise<void> {
  if (!fault || !faultPhaseMatches(fault.phase, phase)) return;
  await clock.paused(() => fault.inject(edges));
}

/** The caller asked the migration to stop (a trip's user turned back): it rolls back like a failure. */
export class MigrationAbortedError extends FollowmeError {
  override name = 'MigrationAbortedError';
}

export async function runPhases(
  ctx: MigrationContext,
  strategy: Strategy,
  o: { clock: EngineClock; journal: Journal; fault?: FaultHook; signal?: AbortSignal },
): Promise<PhasesRun> {
  const { clock } = o;
  const run: PhasesRun = { phases: [], history: { predumps: ctx.predumps, steps: [] }, t0: clock.now(), end: 0, countsPages: new Set() };
  // Ψ ends with the last phase: the journal's note of the point of no return after it is bookkeeping.
  run.end = run.t0;
  let pastNoReturn = false;
  for (let phase = strategy.next(run.history); phase; phase = strategy.next(run.history)) {
    // An abort is heard between phases, and only before the point of no return: after it, the move is finished instead.
    if (o.signal?.aborted && !pastNoReturn) {
      run.failure = {
        phase: phase.name,
        error: new MigrationAbortedError(`aborted by its caller before "${phase.name}": ${String(o.signal.reason ?? 'no reason given')}`),
      };
      break;
    }
    if (run.phases.length >= MAX_PHASES) {
      const error = new FollowmeError(`strategy ${strategy.name} chose more than ${MAX_PHASES} phases; stopped before "${phase.name}"`);
      run.failure = { phase: phase.name, error };
      break;
    }
    const commands: CommandTiming[] = [];
    // sentAt is the wall clock's; listeners and faults only run between commands, so the pause so far applies.
    // Read from the context each time: a connection opened again in a phase replaces its edge there (and takes its sink).
    ctx.source.sink = ctx.dest.sink = (t, sentAt) => commands.push({ ...t, startMs: clock.fromWall(sentAt) - run.t0 });
    await clock.emit({ type: 'phase-start', name: phase.name, kind: phase.kind, ...(phase.iteration ? { iteration: phase.iteration } : {}) });
    await injectFaultAt(o.fault, clock, phase.name, { source: ctx.source, dest: ctx.dest });
    const { rec, stats, roomBytes, error } = await timedPhase(ctx, strategy, phase, commands, o.journal, clock, run.t0);
    ctx.source.sink = ctx.dest.sink = undefined;
    run.end = rec.startMs + rec.durationMs + run.t0;
    run.phases.push(rec);
    if (phase.pagesLeaveSource && !stats) run.countsPages.add(rec);
    if (error !== undefined) {
      run.failure = { phase: phase.name, error, ...(pastNoReturn ? { afterNoReturn: true } : {}) };
      break;
    }
    run.history.steps.push({
      name: rec.name,
      kind: rec.kind,
      ...(rec.iteration ? { iteration: rec.iteration } : {}),
      durationMs: rec.durationMs,
      ...(rec.bytes !== undefined ? { bytes: rec.bytes } : {}),
      ...(stats ? { stats } : {}),
      ...(roomBytes !== undefined ? { roomBytes } : {}),
    });
    if (phase.kind === strategy.pointOfNoReturn) {
      pastNoReturn = true;
      o.journal.update({ pointOfNoReturnPassed: true });
    }
    await clock.emit({ type: 'phase-end', phase: rec });
  }
  return run;
}

/** One phase run and timed; a failure is returned, not thrown. */
async function timedPhase(
  ctx: MigrationContext,
  strategy: Strategy,
  phase: Phase,
  commands: CommandTiming[],
  journal: Journal,
  clock: EngineClock,
  t0: number,
): Promise<{ rec: PhaseRecord; stats: StepDone['stats']; roomBytes?: number; error?: unknown }> {
  const start = clock.now();
  let bytes: number | undefined;
  let stats: StepDone['stats'];
  let roomBytes: number | undefined;
  let error: unknown;
  let failed = false;
  try {
    journal.update({ step: phase.name });
    // The lazy window goes on without the controller: it opens a lost connection again itself (lazy-steps.ts).
    if (phase.kind !== 'lazy-pages') refuseOverLostConnection(ctx.dest);
    bytes = (await phase.run(ctx)).bytes;
    // A strategy that decides from its rounds gets each pre-dump's statistics now, inside the phase's time.
    if (phase.kind === 'pre-dump' && strategy.measuresRounds) [stats, roomBytes] = await Promise.all([roundStats(ctx), roundRoom(ctx)]);
  } catch (e) {
    error = e;
    failed = true;
  }
  const end = clock.now();
  if (stats && phase.pagesLeaveSource) bytes = stats.pagesWritten * PAGE_SIZE;
  const rec: PhaseRecord = {
    name: phase.name,
    kind: phase.kind,
    ...(phase.iteration ? { iteration: phase.iteration } : {}),
    startMs: start - t0,
    durationMs: end - start,
    commands,
    ...(bytes !== undefined ? { bytes } : {}),
    ...(phase.decision ? { decision: phase.decision } : {}),
  };
  return { rec, stats, ...(roomBytes !== undefined ? { roomBytes } : {}), ...(failed ? { error: error ?? new Error('the phase failed') } : {}) };
}

/** The statistics of the pre-dump that just ended; undefined when they cannot be read (the strategy then decides without them). */
async function roundStats(ctx: MigrationContext): Promise<StepDone['stats']> {
  const last = ctx.dumps.at(-1);
  if (!last) return undefined;
  return (await ctx.source.dumpStatsOf([last.imagesDir]).catch(() => [undefined]))[0];
}

/** Free bytes where the rounds' images gather on the destination; undefined when unreadable (the rule then goes without). */
async function roundRoom(ctx: MigrationContext): Promise<number | undefined> {
  return ctx.dest.freeBytes(ctx.workDir).catch(() => undefined);
}

/**
 * The destination's connection lost while phases that did not need it ran (a
 * copy the source pushes) fails the next phase at its start: going on would
 * stop the container for a restore no one can order. Not the source's: every
 * phase before the restore needs it and fails by itself, and the restore does
 * not (source cleanup opens it again).
 */
function refuseOverLostConnection(dest: Edge): void {
  if (dest.ssh.lostReason !== undefined)
    throw new Error(`${dest.name}: the SSH connection was lost (${dest.ssh.lostReason}) before this phase; the migration stops before it`);
}

/**
 * Outside Ψ: CRIU's own statistics of every dump not read yet, in one round
 * trip, and the bytes of the phases whose pages left the source. A failed
 * read leaves the record without them, and `missing` says so.
 */
export async function dumpIterations(ctx: MigrationContext, run: PhasesRun, missing: string[]): Promise<IterationRecord[]> {
  const measured = new Map(run.history.steps.filter((x) => x.stats).map((x) => [x.iteration, x.stats!]));
  const unread = ctx.dumps.filter((d) => d.kind === 'dump' || !measured.has(d.iteration));
  const read = await ctx.source.dumpStatsOf(unread.map((d) => d.imagesDir)).catch((e: unknown) => {
    missing.push(`CRIU's dump statistics (pages, freeze times): reading them on ${ctx.source.name} failed: ${(e as Error).message.split('\n')[0]}`);
    return unread.map(() => undefined);
  });
  const statsOf = (d: (typeof ctx.dumps)[number]) => (d.kind === 'pre-dump' ? measured.get(d.iteration) : undefined) ?? read[unread.indexOf(d)];
  const iterations = ctx.dumps.flatMap((d) => {
    const st = statsOf(d);
    return st ? [{ ...d, stats: st }] : [];
  });
  for (const p of run.phases) {
    if (!run.countsPages.has(p)) continue;
    const it = iterations.find((x) => (p.kind === 'final-dump' ? x.kind === 'dump' : x.iteration === p.iteration));
    if (it) p.bytes = it.stats.pagesWritten * PAGE_SIZE;
  }
  return iterations;
}
