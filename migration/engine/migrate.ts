// The engine: one driver runs any strategy's phases between two edges, times
// each phase on the controller and each command on its node, and keeps the
// point of no return explicit: until the container runs on the destination a
// failure rolls back; after it, cleanup problems are only warnings.
import { randomBytes } from 'node:crypto';
import { ConfigError, ConflictError, FollowmeError } from '../../common/errors.js';
import type { Inventory, InventoryNode } from '../../common/inventory.js';
import { connectEdge, type Edge } from '../edge.js';
import { LXC_PATH } from '../lxc/commands.js';
import type { CommandTiming, MigrationRecord, PhaseRecord } from '../record/schema.js';
import { sealRecord } from '../record/validate.js';
import { PAGE_SIZE } from '../criu/stats.js';
import { LXC_TUNING } from '../criu/commands.js';
import { strategyNamed } from '../strategies/index.js';
import type { Strategy } from './types.js';
import { checkAndPrepare, nothingMade, type SetupMade } from './setup.js';
import { portsFor, receiverRunDir } from './ports.js';
import { underBase } from '../../common/input/remote-path.js';
import { shown } from '../../common/input/clip.js';
import { CONTAINER_NAME_PATTERN } from '../../common/input/patterns.js';
import { cleanupSourceOverLiveConnections, rollbackOverLiveConnections } from './reconnect.js';
import { freezeAtMs, remoteMsFrom } from './downtime.js';
import {
  faultPhaseMatches,
  iterationDirs,
  workDirOf,
  type EventListener,
  type FaultHook,
  type History,
  type MigrationContext,
  type MigrationEvent,
  type StepDone,
} from './types.js';
import { Journal, journalDirFor, unfinishedMigrations } from '../journal.js';

export const DEFAULT_PREDUMPS = 2; // as the paper
export const MAX_PREDUMPS = 20;
/** A strategy that keeps choosing phases past this many is stopped (and rolled back): a bug, not a migration. */
export const MAX_PHASES = 100;

export interface MigrateOptions {
  inventory: Inventory;
  strategy: string;
  container: string;
  from: string;
  to: string;
  predumps?: number;
  /**
   * Hears each step. Awaited (a test may act at a step), but its time is
   * paused out of Ψ and the phases, and what it throws is kept in the record's
   * listenerErrors: a listener never changes the migration.
   */
  onEvent?: EventListener;
  /** How an edge is reached: SSH by default; unit tests give a scripted edge. */
  connect?: (node: InventoryNode) => Promise<Edge>;
  /** Where the journal of unfinished migrations lives (default: the testbed's state directory). */
  journalDir?: string;
  /** A fault to inject on purpose (experiment/faults); the record reports it. */
  fault?: FaultHook;
}

/** A migration that did not complete; `record` says which phase failed and where the container is. */
export class MigrationFailedError extends FollowmeError {
  override name = 'MigrationFailedError';
  constructor(
    message: string,
    readonly record: MigrationRecord,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const CONTAINER_NAME = new RegExp(CONTAINER_NAME_PATTERN);

function edgeNode(inv: Inventory, name: string, flag: string): InventoryNode {
  const n = inv.nodes.find((x) => x.name === name);
  const edges = inv.nodes.filter((x) => x.role === 'edge').map((x) => x.name);
  if (n?.role !== 'edge')
    throw new ConfigError(`${flag}: "${name}" is not an edge of testbed ${inv.prefix}; edges: ${edges.join(', ')}`, flag.replace(/^--/, ''));
  return n;
}

export function migrationId(strategy: string, container: string, now = new Date()): string {
  const t = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${t}-${strategy}-${container}-${randomBytes(3).toString('hex')}`;
}

/** Both edges or neither: a connection that did open is closed when the other fails. */
async function connectBoth(a: InventoryNode, b: InventoryNode, connect: (n: InventoryNode) => Promise<Edge>): Promise<[Edge, Edge]> {
  const [ra, rb] = await Promise.allSettled([connect(a), connect(b)]);
  if (ra.status === 'fulfilled' && rb.status === 'fulfilled') return [ra.value, rb.value];
  for (const r of [ra, rb]) if (r.status === 'fulfilled') r.value.close();
  throw (ra.status === 'rejected' ? ra.reason : (rb as PromiseRejectedResult).reason) as Error;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

interface ValidMigration {
  strategy: Strategy;
  /** The most pre-dumps this migration may do (--predumps for the fixed strategies). */
  predumps: number;
  fromNode: InventoryNode;
  toNode: InventoryNode;
  journalDir: string;
}

/** Every option checked once, before anything is opened: a bad one changes nothing. */
function validate(o: MigrateOptions): ValidMigration {
  const strategy = strategyNamed(o.strategy);
  const asked = o.predumps ?? DEFAULT_PREDUMPS;
  if (!Number.isInteger(asked) || asked < 0 || asked > MAX_PREDUMPS) {
    throw new ConfigError(`--predumps: must be a whole number from 0 to ${MAX_PREDUMPS}, got ${o.predumps}`, 'predumps');
  }
  if (!CONTAINER_NAME.test(o.container))
    throw new ConfigError(`--container: ${shown(o.container)} is not a container name (letters, digits, _ . -)`, 'container');
  if (o.from === o.to) throw new ConfigError(`--from and --to are both "${o.from}"; a migration needs two edges`, 'to');
  const fromNode = edgeNode(o.inventory, o.from, '--from');
  const toNode = edgeNode(o.inventory, o.to, '--to');
  const journalDir = o.journalDir ?? journalDirFor(o.inventory.prefix);
  refuseIfUnfinished(journalDir, o.container);
  return { strategy, predumps: strategy.maxPreDumps(asked), fromNode, toNode, journalDir };
}

/**
 * One migration, in named steps: validate (once), prepare (checks and
 * set-up, outside Ψ), the phases the strategy chooses one by one from what
 * the ones before measured (its rounds, then the cut-over), and settle:
 * rollback after a failure, source cleanup after success. The record is
 * written whatever happens.
 */
export async function migrate(o: MigrateOptions): Promise<MigrationRecord> {
  const { strategy, predumps, fromNode, toNode, journalDir } = validate(o);
  const id = migrationId(strategy.name, o.container);
  const workDir = workDirOf(strategy, o.inventory, id);
  const lxcDir = underBase(LXC_PATH, o.container);
  const startedAt = new Date().toISOString();
  // Written before anything exists on an edge, so a controller killed at any later moment leaves it behind.
  const journal = Journal.open(journalDir, {
    id,
    strategy: strategy.name,
    testbed: o.inventory.prefix,
    container: o.container,
    from: o.from,
    to: o.to,
    predumps,
    lxcDir,
    workDir,
    ports: portsFor(id),
    startedAt,
  });
  // The engine's clock stops while a listener runs, and while a fault is put in.
  let listenerMs = 0;
  let pausedMs = 0;
  const listenerErrors: string[] = [];
  // A dump that failed once and was tried again: its phase took longer than a clean one, and the record says so.
  const retries: { phase: string; error: string }[] = [];
  const clock = () => performance.now() - pausedMs;
  const emit = async (e: MigrationEvent) => {
    if (e.type === 'retry') retries.push({ phase: e.phase, error: e.error.split('\n')[0]!.slice(0, 500) });
    if (!o.onEvent) return;
    const started = performance.now();
    try {
      await o.onEvent(e);
    } catch (err) {
      listenerErrors.push(`at ${e.type}: ${(err as Error)?.message ?? String(err)}`);
    } finally {
      // Progress comes while a command runs, and nothing waits for its listener: that time overlaps the command, and stays in Ψ.
      if (e.type !== 'progress') {
        const ms = performance.now() - started;
        listenerMs += ms;
        pausedMs += ms;
      }
    }
  };
  const injectFaultAt = async (phase: string, edges: { source: Edge; dest: Edge }) => {
    if (!o.fault || !faultPhaseMatches(o.fault.phase, phase)) return;
    const started = performance.now();
    await o.fault.inject(edges);
    pausedMs += performance.now() - started;
  };
  const [source, dest] = await connectBoth(fromNode, toNode, o.connect ?? connectEdge).catch((e: unknown) => {
    journal.close();
    throw e;
  });
  // Connections opened again after one was lost (a dropped SSH connection); closed with the first two.
  const reopened: Edge[] = [];
  try {
    const setupStarted = clock();
    const made = nothingMade();
    journal.update({ step: 'checks' });
    const setup = await checkAndPrepare({
      strategy,
      inventory: o.inventory,
      container: o.container,
      source,
      dest,
      workDir,
      iterationDirs: iterationDirs({ workDir }, predumps),
      id,
      made,
      // From here on an edge may hold something of the migration.
      onChecked: () => journal.update({ step: 'set-up' }),
    }).catch(async (e: unknown) => {
      // Settled unless something set-up made could not be taken back: then the entry stays for recover.
      if (await undoSetup(source, dest, { workDir, lxcDir, id, made, workBase: strategy.storage.workBase(o.inventory) })) journal.close();
      throw e;
    });
    const setupMs = clock() - setupStarted;
    await emit({ type: 'setup-done', ms: setupMs });

    const ctx: MigrationContext = {
      id,
      container: o.container,
      inventory: o.inventory,
      source,
      dest,
      lxcDir,
      workDir,
      predumps,
      proc: setup.proc,
      criu: strategy.criu ?? LXC_TUNING,
      pageServerPort: portsFor(id).pageServer,
      ...(setup.receiver ? { receiver: setup.receiver } : {}),
      dumps: [],
      // Set-up made the container's directory on the destination.
      destTouched: true,
      emit,
    };

    const phases: PhaseRecord[] = [];
    const countsPages = new Set<PhaseRecord>();
    const history: History & { steps: StepDone[] } = { predumps, steps: [] };
    const t0 = clock();
    let failure: { phase: string; error: unknown } | undefined;
    // Ψ ends with the last phase: the journal's note of the point of no return after it is bookkeeping.
    let lastPhaseEnd = t0;
    for (let phase = strategy.next(history); phase; phase = strategy.next(history)) {
      if (phases.length >= MAX_PHASES) {
        failure = {
          phase: phase.name,
          error: new FollowmeError(`strategy ${strategy.name} chose more than ${MAX_PHASES} phases; stopped before "${phase.name}"`),
        };
        break;
      }
      const commands: CommandTiming[] = [];
      // sentAt is the wall clock's; listeners and faults only run between commands, so the pause so far applies.
      source.sink = dest.sink = (t, sentAt) => commands.push({ ...t, startMs: sentAt - pausedMs - t0 });
      await emit({ type: 'phase-start', name: phase.name, kind: phase.kind, ...(phase.iteration ? { iteration: phase.iteration } : {}) });
      await injectFaultAt(phase.name, { source, dest });
      const start = clock();
      let bytes: number | undefined;
      let stats: StepDone['stats'];
      try {
        journal.update({ step: phase.name });
        refuseOverLostConnection(dest);
        bytes = (await phase.run(ctx)).bytes;
        // A strategy that decides from its rounds gets each pre-dump's statistics now, inside the phase's time.
        if (phase.kind === 'pre-dump' && strategy.measuresRounds) stats = await roundStats(ctx);
      } catch (e) {
        failure = { phase: phase.name, error: e };
      }
      lastPhaseEnd = clock();
      if (stats && phase.pagesLeaveSource) bytes = stats.pagesWritten * PAGE_SIZE;
      const rec: PhaseRecord = {
        name: phase.name,
        kind: phase.kind,
        ...(phase.iteration ? { iteration: phase.iteration } : {}),
        startMs: start - t0,
        durationMs: lastPhaseEnd - start,
        commands,
        ...(bytes !== undefined ? { bytes } : {}),
        ...(phase.decision ? { decision: phase.decision } : {}),
      };
      phases.push(rec);
      if (phase.pagesLeaveSource && !stats) countsPages.add(rec);
      source.sink = dest.sink = undefined;
      if (failure) break;
      history.steps.push({
        name: rec.name,
        kind: rec.kind,
        ...(rec.iteration ? { iteration: rec.iteration } : {}),
        durationMs: rec.durationMs,
        ...(rec.bytes !== undefined ? { bytes: rec.bytes } : {}),
        ...(stats ? { stats } : {}),
      });
      if (phase.kind === strategy.pointOfNoReturn) journal.update({ pointOfNoReturnPassed: true });
      await emit({ type: 'phase-end', phase: rec });
    }
    const end = lastPhaseEnd;
    // Outside Ψ: CRIU's own statistics of every dump, in one round trip. A
    // failed read leaves the record without them, and says so.
    const missing: string[] = [];
    const measured = new Map(history.steps.filter((x) => x.stats).map((x) => [x.iteration, x.stats!]));
    const unread = ctx.dumps.filter((d) => d.kind === 'dump' || !measured.has(d.iteration));
    const read = await source.dumpStatsOf(unread.map((d) => d.imagesDir)).catch((e: unknown) => {
      missing.push(`CRIU's dump statistics (pages, freeze times): reading them on ${source.name} failed: ${(e as Error).message.split('\n')[0]}`);
      return unread.map(() => undefined);
    });
    const statsOf = (d: (typeof ctx.dumps)[number]) => (d.kind === 'pre-dump' ? measured.get(d.iteration) : undefined) ?? read[unread.indexOf(d)];
    const iterations = ctx.dumps.flatMap((d) => {
      const st = statsOf(d);
      return st ? [{ ...d, stats: st }] : [];
    });
    for (const p of phases) {
      if (!countsPages.has(p)) continue;
      const it = iterations.find((x) => (p.kind === 'final-dump' ? x.kind === 'dump' : x.iteration === p.iteration));
      if (it) p.bytes = it.stats.pagesWritten * PAGE_SIZE;
    }
    const remoteCommandMs = sum(phases.flatMap((p) => p.commands.map((c) => c.remoteMs)));
    const base = {
      recordVersion: 2 as const,
      id,
      startedAt,
      strategy: strategy.name,
      testbed: o.inventory.prefix,
      container: o.container,
      containerIp: containerIpOf(setup.config),
      from: o.from,
      to: o.to,
      predumps,
      phases,
      setupMs,
      totalMs: end - t0,
      iterations,
      bytesMoved: sum(phases.map((p) => p.bytes ?? 0)),
      remoteCommandMs,
      engineOverheadMs: end - t0 - remoteCommandMs,
      versions: setup.versions,
    };
    // Listener and fault figures are only known at the end: read them then.
    const listenerFields = () => ({
      ...(listenerMs > 0 ? { listenerMs } : {}),
      ...(listenerErrors.length ? { listenerErrors: [...listenerErrors] } : {}),
      ...(missing.length ? { missing: [...missing] } : {}),
      ...(retries.length ? { retries: [...retries] } : {}),
      ...(o.fault ? { fault: o.fault.report() } : {}),
    });
    const last = iterations.find((i) => i.kind === 'dump');

    if (failure) {
      const message = (failure.error as Error)?.message ?? String(failure.error);
      await emit({ type: 'rollback-start', phase: failure.phase, error: message });
      journal.update({ step: 'rollback' });
      if (o.fault?.healBeforeRollback) await o.fault.heal();
      const rb = await rollbackOverLiveConnections(ctx, strategy, { from: fromNode, to: toNode, connect: o.connect ?? connectEdge, opened: reopened }).catch(
        (e: unknown) => ({ outcome: 'failed' as const, detail: `rollback failed: ${(e as Error).message}` }),
      );
      if (o.fault && !o.fault.healBeforeRollback) await o.fault.heal();
      const stateLost = 'stateLost' in rb ? rb.stateLost : undefined;
      // Rolled back (or the state lost for good) with nothing left: settled. Otherwise the entry stays for `followme recover`.
      if ((rb.outcome === 'rolled-back' || stateLost !== undefined) && !('left' in rb)) journal.close();
      else journal.update({ failure: `failed in ${failure.phase}: ${message.split('\n')[0]}; ${rb.detail}` });
      await emit({ type: 'rollback-end', outcome: rb.outcome, detail: rb.detail });
      const record = sealRecord({
        ...base,
        outcome: rb.outcome,
        error: { phase: failure.phase, message, rollback: rb.detail, ...(stateLost !== undefined ? { stateLost } : {}) },
        ...listenerFields(),
      });
      throw new MigrationFailedError(`migration ${id} failed in phase "${failure.phase}": ${message}\nrollback: ${rb.detail}`, record, {
        cause: failure.error,
      });
    }

    // Point of no return: the container runs on the destination.
    const restoreStats = await dest.restoreStats(`${workDir}/dump`).catch((e: unknown) => {
      missing.push(`CRIU's restore statistics: reading them on ${dest.name} failed: ${(e as Error).message.split('\n')[0]}`);
      return undefined;
    });
    await injectFaultAt('source cleanup', { source, dest });
    const cleanupStarted = clock();
    const warning = await settleAfter(journal, 'source cleanup', () =>
      cleanupSourceOverLiveConnections(ctx, strategy, { from: fromNode, to: toNode, connect: o.connect ?? connectEdge, opened: reopened }).catch(
        (e: unknown) => `source cleanup failed: ${(e as Error).message}`,
      ),
    );
    const cleanupMs = clock() - cleanupStarted;
    await o.fault?.heal();
    await emit({ type: 'cleanup-done', ms: cleanupMs, ...(warning ? { warning } : {}) });
    // A migrated record always has a timed final dump; the phase's start is the fallback of a strategy that dumps otherwise.
    const freezeAt = freezeAtMs(phases, last?.stats) ?? phases.find((p) => p.kind === 'final-dump')?.startMs ?? end - t0;
    return sealRecord({
      ...base,
      outcome: 'migrated',
      downtimeMs: end - t0 - freezeAt,
      freezeAtMs: freezeAt,
      downtimeRemoteMs: remoteMsFrom(phases, freezeAt),
      ...(last ? { lastDumpPagesWritten: last.stats.pagesWritten } : {}),
      ...(restoreStats ? { restoreStats } : {}),
      cleanupMs,
      ...(warning ? { cleanupWarning: warning } : {}),
      ...listenerFields(),
    });
  } finally {
    // Whatever ended the migration, a fault is not left in (healing twice does nothing).
    await o.fault?.heal().catch(() => undefined);
    source.close();
    dest.close();
    for (const e of reopened) e.close();
    // Unsettled (rollback failed, cleanup left something, or a bug): the entry stays, unlocked, for recover.
    journal.leave();
  }
}

/** The statistics of the pre-dump that just ended; undefined when they cannot be read (the strategy then decides without them). */
async function roundStats(ctx: MigrationContext): Promise<StepDone['stats']> {
  const last = ctx.dumps.at(-1);
  if (!last) return undefined;
  return (await ctx.source.dumpStatsOf([last.imagesDir]).catch(() => [undefined]))[0];
}

/**
 * After the point of no return the journal is a convenience, never a reason
 * to fail: the entry is settled when the step left nothing behind, and kept
 * (naming what was left) for `recover` otherwise.
 */
async function settleAfter(journal: Journal, step: string, fn: () => Promise<string | undefined>): Promise<string | undefined> {
  const quietly = (f: () => void) => {
    try {
      f();
    } catch {
      // The controller's disk failing here changes nothing on the edges.
    }
  };
  quietly(() => journal.update({ step }));
  const warning = await fn();
  quietly(() => (warning ? journal.update({ failure: `${step}: ${warning}` }) : journal.close()));
  return warning;
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

/** A container with an unfinished migration is the journal's until `recover` settles it. */
function refuseIfUnfinished(journalDir: string, container: string): void {
  const open = unfinishedMigrations(journalDir).filter((e) => e.container === container);
  if (open.length === 0) return;
  const e = open[0]!;
  throw new ConflictError(
    `container ${container} has an unfinished migration ${e.id} (${e.from} → ${e.to} by ${e.strategy}, stopped at "${e.step}"${e.failure ? `: ${e.failure}` : ''}); ` +
      `run \`followme recover --inventory FILE --id ${e.id}\` first`,
  );
}

/** Set-up failed: take back exactly what it made (nothing, when a check refused). Returns whether all of it went. */
async function undoSetup(source: Edge, dest: Edge, o: { workDir: string; lxcDir: string; id: string; made: SetupMade; workBase: string }): Promise<boolean> {
  let clean = true;
  const quietly = (p: Promise<unknown>) =>
    p.then(
      (r) => {
        if ((r as { exitCode?: number } | undefined)?.exitCode) clean = false;
      },
      () => {
        clean = false;
      },
    );
  if (o.made.receiver) await quietly(dest.stopReceiver({ runDir: receiverRunDir(o.id) }));
  if (o.made.sourceWorkDir) await quietly(source.removeUnder('remove-images', o.workBase, o.workDir, { allowFailure: true }));
  if (o.made.destWorkDir) await quietly(dest.removeUnder('remove-images', o.workBase, o.workDir, { allowFailure: true }));
  if (o.made.destLxcDir) await quietly(dest.removeUnder('remove-container-dir', LXC_PATH, o.lxcDir, { allowFailure: true }));
  return clean;
}

function containerIpOf(config: string): string {
  return /^\s*lxc\.net\.0\.ipv4\.address\s*=\s*([\d.]+)/m.exec(config)?.[1] ?? '';
}
