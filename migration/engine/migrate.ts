// The engine: one driver runs any strategy's phases between two edges, times
// each phase on the controller and each command on its node, and keeps the
// point of no return explicit: until the container runs on the destination a
// failure rolls back; after it, cleanup problems are only warnings.
import { randomBytes } from 'node:crypto';
import { ConfigError, ConflictError, FollowmeError } from '../../common/errors.js';
import type { Inventory, InventoryNode } from '../../common/inventory.js';
import { shown } from '../../common/input/clip.js';
import { CONTAINER_NAME_PATTERN } from '../../common/input/patterns.js';
import { underBase } from '../../common/input/remote-path.js';
import { LXC_TUNING } from '../criu/commands.js';
import { connectEdge, type Edge } from '../edge.js';
import { LXC_PATH } from '../lxc/commands.js';
import type { MigrationRecord } from '../record/schema.js';
import { sealRecord } from '../record/validate.js';
import { strategyNamed } from '../strategies/index.js';
import { EngineClock } from './clock.js';
import { freezeAtMs, remoteMsFrom } from './downtime.js';
import { lazyRecordOf, lazyStateLost, type LazyWindowSettled, restoredAtMs, settleLostLazyWindow } from './lazy-window.js';
import { LazyWindowError } from '../strategies/lazy-steps.js';
import { dumpIterations, injectFaultAt, runPhases } from './phases.js';
import { portsFor, receiverRunDir } from './ports.js';
import { cleanupSourceOverLiveConnections, rollbackOverLiveConnections, type Reconnect } from './reconnect.js';
import { checkAndPrepare, nothingMade, type SetupMade, type SetupResult } from './setup.js';
import { iterationDirs, workDirOf, type EventListener, type FaultHook, type MigrationContext, type Strategy } from './types.js';
import { Journal, journalDirFor, SOURCE_CLEANUP_STEP, unfinishedMigrations } from '../journal.js';

export const DEFAULT_PREDUMPS = 2; // as the paper
export const MAX_PREDUMPS = 20;

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
  /** Aborted: the migration rolls back at its next phase before the point of no return (MigrationAbortedError in the record's error). */
  signal?: AbortSignal;
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
  const valid = validate(o);
  const { strategy, predumps, fromNode, toNode, journalDir } = valid;
  const id = migrationId(strategy.name, o.container);
  const places = { id, workDir: workDirOf(strategy, o.inventory, id), lxcDir: underBase(LXC_PATH, o.container) };
  const startedAt = new Date().toISOString();
  // Written before anything exists on an edge, so a controller killed at any later moment leaves it behind.
  const journal = Journal.open(journalDir, {
    ...places,
    strategy: strategy.name,
    testbed: o.inventory.prefix,
    container: o.container,
    from: o.from,
    to: o.to,
    predumps,
    ports: portsFor(id),
    startedAt,
  });
  const clock = new EngineClock(o.onEvent);
  const connect = o.connect ?? connectEdge;
  const [source, dest] = await connectBoth(fromNode, toNode, connect).catch((e: unknown) => {
    journal.close();
    throw e;
  });
  // Connections opened again after one was lost (a dropped SSH connection); closed with the first two.
  const reopened: Edge[] = [];
  const live = { from: fromNode, to: toNode, connect, opened: reopened };
  try {
    const { ctx, setup, setupMs } = await prepare(o, valid, { ...places, journal, clock, source, dest, live });
    const run = await runPhases(ctx, strategy, { clock, journal, ...(o.fault ? { fault: o.fault } : {}), ...(o.signal ? { signal: o.signal } : {}) });
    const missing: string[] = [];
    const iterations = await dumpIterations(ctx, run, missing);
    const remoteCommandMs = sum(run.phases.flatMap((p) => p.commands.map((c) => c.remoteMs)));
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
      phases: run.phases,
      setupMs,
      totalMs: run.end - run.t0,
      iterations,
      bytesMoved: sum(run.phases.map((p) => p.bytes ?? 0)),
      remoteCommandMs,
      engineOverheadMs: run.end - run.t0 - remoteCommandMs - watchedMs(run.phases),
      versions: setup.versions,
    };
    // Listener, fault and missing figures are only known at the end: read them then.
    const extras = () => ({ ...clock.recordFields(), ...(missing.length ? { missing: [...missing] } : {}), ...(o.fault ? { fault: o.fault.report() } : {}) });
    const settle = { ctx, strategy, journal, clock, live, fault: o.fault };
    const lazy = lazyRecordOf(ctx, run.phases, iterations, run.failure === undefined);
    const lostPages = run.failure?.error instanceof LazyWindowError ? run.failure.error.pagesNotArrived : undefined;
    if (lazy) Object.assign(base, { lazy: { ...lazy, ...(lostPages !== undefined ? { pagesNotArrived: lostPages } : {}) } });
    if (run.failure?.afterNoReturn) throw await lostInLazyWindow(settle, run.failure, lostPages, (r) => sealRecord({ ...base, ...r, ...extras() }));
    if (run.failure) throw await rolledBack(settle, run.failure, (r) => sealRecord({ ...base, ...r, ...extras() }));
    const finished = await cleanedUp(settle, missing);
    const last = iterations.find((i) => i.kind === 'dump');
    // A migrated record always has a timed final dump; the phase's start is the fallback of a strategy that dumps otherwise.
    // A lazy dump's statistics do not time its freeze (frozen_time came out as 2755 s here, memdump as 0): its command's start is taken.
    const freezeAt = freezeAtMs(run.phases, ctx.lazy ? undefined : last?.stats) ?? run.phases.find((p) => p.kind === 'final-dump')?.startMs ?? run.end - run.t0;
    return sealRecord({
      ...base,
      outcome: 'migrated',
      downtimeMs: restoredAtMs(run.phases, run.end - run.t0) - freezeAt,
      freezeAtMs: freezeAt,
      downtimeRemoteMs: remoteMsFrom(run.phases, freezeAt),
      ...(last ? { lastDumpPagesWritten: last.stats.pagesWritten } : {}),
      ...finished,
      ...extras(),
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

/** Checks and set-up, outside Ψ; a set-up that fails takes back what it made. Returns the phases' context. */
async function prepare(
  o: MigrateOptions,
  { strategy, predumps }: ValidMigration,
  p: { id: string; workDir: string; lxcDir: string; journal: Journal; clock: EngineClock; source: Edge; dest: Edge; live: Reconnect },
): Promise<{ ctx: MigrationContext; setup: SetupResult; setupMs: number }> {
  const { id, workDir, lxcDir, journal, clock, source, dest, live } = p;
  const setupStarted = clock.now();
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
    if (await undoSetup(source, dest, { container: o.container, workDir, lxcDir, id, made, workBase: strategy.storage.workBase(o.inventory) })) journal.close();
    throw e;
  });
  const setupMs = clock.now() - setupStarted;
  await clock.emit({ type: 'setup-done', ms: setupMs });
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
    ...(setup.network ? { network: setup.network } : {}),
    dumps: [],
    // Set-up made the container's directory on the destination.
    destTouched: true,
    emit: (e) => clock.emit(e),
    async reopen(edge) {
      const fresh = await live.connect(edge === 'source' ? live.from : live.to);
      live.opened.push(fresh);
      // The phase's command timings go on into its record.
      fresh.sink = ctx[edge].sink;
      ctx[edge] = fresh;
    },
  };
  return { ctx, setup, setupMs };
}

interface Settling {
  ctx: MigrationContext;
  strategy: Strategy;
  journal: Journal;
  clock: EngineClock;
  live: Parameters<typeof rollbackOverLiveConnections>[2];
  fault: FaultHook | undefined;
}

/** A phase failed: roll back (with the fault healed first if it asks), settle the journal, and return the error carrying the record. */
async function rolledBack(
  s: Settling,
  failure: { phase: string; error: unknown },
  seal: (r: Pick<MigrationRecord, 'outcome' | 'error'>) => MigrationRecord,
): Promise<MigrationFailedError> {
  const { journal, clock, fault } = s;
  const message = (failure.error as Error)?.message ?? String(failure.error);
  await clock.emit({ type: 'rollback-start', phase: failure.phase, error: message });
  journal.update({ step: 'rollback' });
  if (fault?.healBeforeRollback) await fault.heal();
  const rb = await rollbackOverLiveConnections(s.ctx, s.strategy, s.live).catch((e: unknown) => ({
    outcome: 'failed' as const,
    detail: `rollback failed: ${(e as Error).message}`,
  }));
  if (fault && !fault.healBeforeRollback) await fault.heal();
  const stateLost = 'stateLost' in rb ? rb.stateLost : undefined;
  // Rolled back (or the state lost for good) with nothing left: settled. Otherwise the entry stays for `followme recover`.
  if ((rb.outcome === 'rolled-back' || stateLost !== undefined) && !('left' in rb)) journal.close();
  else journal.update({ failure: `failed in ${failure.phase}: ${message.split('\n')[0]}; ${rb.detail}` });
  await clock.emit({ type: 'rollback-end', outcome: rb.outcome, detail: rb.detail });
  const record = seal({
    outcome: rb.outcome,
    error: { phase: failure.phase, message, rollback: rb.detail, ...(stateLost !== undefined ? { stateLost } : {}) },
  });
  return new MigrationFailedError(`migration ${s.ctx.id} failed in phase "${failure.phase}": ${message}\nrollback: ${rb.detail}`, record, {
    cause: failure.error,
  });
}

/** The journal's name for the edge that keeps a lost window's container: recover keeps the same. */
function keptOnEdge(ctx: MigrationContext, keptOn: 'source' | 'dest' | undefined): { stoppedOn?: string } {
  return keptOn ? { stoppedOn: keptOn === 'dest' ? ctx.dest.name : ctx.source.name } : {};
}

/** The lazy window's time between its reads: the daemon's, which the engine only watches, not the engine's own. */
function watchedMs(phases: readonly MigrationRecord['phases'][number][]): number {
  return sum(phases.filter((p) => p.kind === 'lazy-pages').map((p) => p.durationMs - sum(p.commands.map((c) => c.remoteMs))));
}

/**
 * A phase after the point of no return failed: a post-copy move's lazy
 * window, with pages that cannot arrive now. Nothing rolls back; the state
 * is lost, and the record and the journal say so.
 */
async function lostInLazyWindow(
  s: Settling,
  failure: { phase: string; error: unknown },
  notArrived: number | undefined,
  seal: (r: Pick<MigrationRecord, 'outcome' | 'error'>) => MigrationRecord,
): Promise<MigrationFailedError> {
  const { journal, clock, fault, ctx } = s;
  const message = (failure.error as Error)?.message ?? String(failure.error);
  const stateLost = lazyStateLost(ctx, notArrived, message.split('\n')[0]!);
  await clock.emit({ type: 'state-lost', phase: failure.phase, error: message });
  journal.update({ step: 'lazy window lost', stateLost });
  if (fault?.healBeforeRollback) await fault.heal();
  const settled: LazyWindowSettled = await settleLostLazyWindow(ctx, s.strategy).catch((e: unknown) => ({
    detail: `settling failed: ${(e as Error).message}`,
    left: (e as Error).message,
  }));
  if (fault && !fault.healBeforeRollback) await fault.heal();
  if (settled.left) journal.update({ failure: `lost in ${failure.phase}: ${settled.detail}`, ...keptOnEdge(ctx, settled.keptOn) });
  else journal.close();
  await clock.emit({ type: 'rollback-end', outcome: 'failed', detail: settled.detail });
  const record = seal({ outcome: 'failed', error: { phase: failure.phase, message, rollback: settled.detail, stateLost } });
  return new MigrationFailedError(`migration ${ctx.id} lost its state in phase "${failure.phase}": ${message}\n${settled.detail}`, record, {
    cause: failure.error,
  });
}

/** Past the point of no return: CRIU's restore statistics, then the source's copy removed; what the record says of both. */
async function cleanedUp(s: Settling, missing: string[]): Promise<Pick<MigrationRecord, 'restoreStats' | 'cleanupMs' | 'cleanupWarning'>> {
  const { ctx, clock, fault } = s;
  const restoreStats = await ctx.dest.restoreStats(`${ctx.workDir}/dump`).catch((e: unknown) => {
    missing.push(`CRIU's restore statistics: reading them on ${ctx.dest.name} failed: ${(e as Error).message.split('\n')[0]}`);
    return undefined;
  });
  await injectFaultAt(fault, clock, SOURCE_CLEANUP_STEP, { source: ctx.source, dest: ctx.dest });
  const cleanupStarted = clock.now();
  const warning = await settleAfter(s.journal, SOURCE_CLEANUP_STEP, () =>
    cleanupSourceOverLiveConnections(ctx, s.strategy, s.live).catch((e: unknown) => `source cleanup failed: ${(e as Error).message}`),
  );
  const cleanupMs = clock.now() - cleanupStarted;
  await fault?.heal();
  await clock.emit({ type: 'cleanup-done', ms: cleanupMs, ...(warning ? { warning } : {}) });
  return { ...(restoreStats ? { restoreStats } : {}), cleanupMs, ...(warning ? { cleanupWarning: warning } : {}) };
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
async function undoSetup(
  source: Edge,
  dest: Edge,
  o: { container: string; workDir: string; lxcDir: string; id: string; made: SetupMade; workBase: string },
): Promise<boolean> {
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
  if (o.made.destNetwork) await quietly(dest.forgetNetwork(o.container));
  if (o.made.sourceWorkDir) await quietly(source.removeUnder('remove-images', o.workBase, o.workDir, { allowFailure: true }));
  if (o.made.destWorkDir) await quietly(dest.removeUnder('remove-images', o.workBase, o.workDir, { allowFailure: true }));
  if (o.made.destLxcDir) await quietly(dest.removeUnder('remove-container-dir', LXC_PATH, o.lxcDir, { allowFailure: true }));
  return clean;
}

function containerIpOf(config: string): string {
  return /^\s*lxc\.net\.0\.ipv4\.address\s*=\s*([\d.]+)/m.exec(config)?.[1] ?? '';
}
