// The shapes the engine and the strategies share. A strategy chooses its
// next phase from what the phases before it measured; the engine runs each,
// times it, and rolls back.
import type { Inventory } from '../../common/inventory.js';
import type { ContainerProcess, CriuTuning } from '../criu/commands.js';
import type { DumpStats } from '../criu/stats.js';
import type { LazyPagesCount } from '../criu/lazy.js';
import type { CriuFeature } from '../criu/features.js';
import type { Edge } from '../edge.js';
import type { RsyncReceiver } from '../rsync/commands.js';
import type { PreparedNetwork } from '../lxc/network.js';
import type { FaultRecord, PhaseDecision, PhaseKind, PhaseRecord } from '../record/schema.js';
import type { StorageDriver } from '../storage/types.js';
import { underBase } from '../../common/input/remote-path.js';

export interface MigrationContext {
  readonly id: string;
  readonly container: string;
  readonly inventory: Inventory;
  /** The controller's connections; reopen() replaces a lost one. */
  source: Edge;
  dest: Edge;
  /** The container's LXC directory (config, and the rootfs unless it is shared). */
  readonly lxcDir: string;
  /** Image directories of this migration: the same path on both edges, or on the share. */
  readonly workDir: string;
  /** Pre-dumps asked for (a strategy that decides its rounds may do fewer). */
  readonly predumps: number;
  readonly proc: ContainerProcess;
  /** The CRIU options the strategy changes from LXC's. */
  readonly criu: CriuTuning;
  /** Page server port on the destination (diskless). */
  readonly pageServerPort: number;
  /** The rsync daemon on the destination, when the strategy copies. */
  receiver?: RsyncReceiver;
  /** The network namespace prepared on the destination, when the strategy's dump leaves it out (lxc/network.ts). */
  readonly network?: PreparedNetwork;
  /** Every dump done so far, in order. */
  readonly dumps: DumpDone[];
  /** Set once anything of the container exists on the destination. */
  destTouched: boolean;
  /** Set by a lazy final dump (post-copy): what the lazy phases learn as they go. */
  lazy?: LazyProgress;
  emit(e: MigrationEvent): Promise<void>;
  /**
   * Opens the controller's lost SSH connection to an edge again, in place:
   * in the lazy window the edges go on without the controller, and a dropped
   * connection must not end a move that is whole.
   */
  reopen(edge: 'source' | 'dest'): Promise<void>;
}

/** What rollback, source cleanup and recovery need of a migration: its places, not its progress. */
export type SettleContext = Pick<
  MigrationContext,
  'id' | 'container' | 'inventory' | 'source' | 'dest' | 'lxcDir' | 'workDir' | 'pageServerPort' | 'receiver' | 'destTouched'
>;

/** The directory name of one iteration's images: pre-1, pre-2, …, dump. */
export function iterationName(iteration: number | 'dump'): string {
  return iteration === 'dump' ? 'dump' : `pre-${iteration}`;
}

/** Where one iteration writes its images. */
export function iterationDir(ctx: Pick<MigrationContext, 'workDir'>, iteration: number | 'dump'): string {
  return `${ctx.workDir}/${iterationName(iteration)}`;
}

/** CRIU's --prev-images-dir for the iteration after `previous` pre-dumps (relative to its own dir). */
export function parentOf(previous: number): string | undefined {
  return previous > 0 ? `../pre-${previous}` : undefined;
}

/** What a post-copy move learns as it goes; the engine writes it into the record's `lazy`. */
export interface LazyProgress {
  /** How long the source's lazy dump ran on its node, from its start until its last page was served. */
  dumpRanMs?: number;
  /** The destination daemon's counts, as last read. */
  count?: LazyPagesCount;
  /** The source's dump did not say its transfer finished, though every page arrived. */
  sourceWarning?: string;
  /** The controller's connections lost in the window and opened again. */
  reopened?: string[];
}

export interface DumpDone {
  iteration: number;
  kind: 'pre-dump' | 'dump';
  imagesDir: string;
}

/** The pre-dumps done so far: the final dump's parent is the last of them. */
export function preDumpsDone(ctx: Pick<MigrationContext, 'dumps'>): number {
  return ctx.dumps.filter((d) => d.kind === 'pre-dump').length;
}

/** One phase that ended well, as a strategy sees it when it chooses the next. */
export interface StepDone {
  name: string;
  kind: PhaseKind;
  iteration?: number;
  durationMs: number;
  /** Bytes it moved between the edges, where known (rsync's count; pages × 4 KiB for a pre-dump to a page server). */
  bytes?: number;
  /** A pre-dump's own CRIU statistics, read right after it (for strategies that measure rounds). */
  stats?: DumpStats;
  /** Free bytes where the rounds' images gather on the destination, read with the statistics. */
  roomBytes?: number;
}

/** What a strategy's next step is chosen from. */
export interface History {
  /** Pre-dumps asked for (--predumps). */
  readonly predumps: number;
  readonly steps: readonly StepDone[];
}

/** Every iteration's directory, created in set-up so the timed phases need not. */
export function iterationDirs(ctx: Pick<MigrationContext, 'workDir'>, predumps: number): string[] {
  const dirs = Array.from({ length: predumps }, (_, i) => iterationDir(ctx, i + 1));
  return [...dirs, iterationDir(ctx, 'dump')];
}

export interface PhaseResult {
  bytes?: number;
}

export interface Phase {
  name: string;
  kind: PhaseKind;
  iteration?: number;
  /** A dump whose pages leave the source (page server, NFS): its pages count as bytes moved. */
  pagesLeaveSource?: boolean;
  /** It starts a CRIU page server on the destination (a fault can kill it). */
  usesPageServer?: boolean;
  /** Why the strategy chose this phase, when it chose from measurements (adaptive pre-copy's stop rule): kept in the record. */
  decision?: PhaseDecision;
  run(ctx: MigrationContext): Promise<PhaseResult>;
}

export interface Strategy {
  /** Lower-case letters, digits and dashes: it is part of migration ids and file names. */
  name: string;
  summary: string;
  /** Where the rootfs and the images live: the driver owns checks, preparation, removal and recovery. */
  storage: StorageDriver;
  /**
   * The phase whose end passes the point of no return: from then on the
   * container runs on the destination and cannot go back to the source. For
   * pre-copy strategies the restore; a post-copy one passes it earlier.
   */
  pointOfNoReturn: PhaseKind;
  /** CRIU options changed from LXC's; LXC_TUNING when unset (the paper's strategies). */
  criu?: CriuTuning;
  /** What it needs of CRIU on both edges (`criu check --feature` names): set-up refuses it on an edge that lacks one. */
  criuFeatures: readonly CriuFeature[];
  /** Where the final dump puts its pages: a rollback after it brings them back from the destination. */
  finalPagesOn: 'source' | 'destination';
  /** The most pre-dumps it may do with `predumps` asked for: set-up makes their directories. */
  maxPreDumps(predumps: number): number;
  /** Whether `next` reads each pre-dump's statistics: the engine then reads them right after the pre-dump, inside Ψ. */
  measuresRounds: boolean;
  /** The next phase, chosen from what the phases so far measured; undefined when the migration is done. */
  next(history: History): Phase | undefined;
  /** The phases of a migration that does `preDumps` pre-dumps: what faults can aim at, and what a reader is shown. */
  outline(preDumps: number): Phase[];
}

/** The image directory of a migration: the same path on both edges, or on the share. */
export function workDirOf(strategy: Pick<Strategy, 'storage'>, inventory: Inventory, id: string): string {
  return underBase(strategy.storage.workBase(inventory), id);
}

/** A strategy whose phases are fixed by --predumps: its next phase is the outline's next. */
export function fixedPhases(outline: (preDumps: number) => Phase[]): Pick<Strategy, 'next' | 'outline' | 'maxPreDumps' | 'measuresRounds'> {
  return {
    outline,
    maxPreDumps: (predumps) => predumps,
    measuresRounds: false,
    next: (h) => outline(h.predumps)[h.steps.length],
  };
}

export type MigrationEvent =
  | { type: 'setup-done'; ms: number }
  | { type: 'phase-start'; name: string; kind: PhaseKind; iteration?: number }
  | { type: 'phase-end'; phase: PhaseRecord }
  | { type: 'step'; step: 'page-server-started' | 'receiver-started'; node: string; iteration?: number | 'dump' }
  | { type: 'progress'; phase: string; percent: number; rate: string }
  | { type: 'retry'; phase: string; error: string }
  | { type: 'rollback-start'; phase: string; error: string }
  | { type: 'state-lost'; phase: string; error: string }
  | { type: 'rollback-end'; outcome: 'rolled-back' | 'failed'; detail: string }
  | { type: 'cleanup-done'; ms: number; warning?: string };

export type EventListener = (e: MigrationEvent) => void | Promise<void>;

/**
 * A fault put into a migration on purpose (experiment/faults makes them).
 * The engine injects it at the start of its phase, with the clock paused,
 * heals it when the migration fails (before rollback, or after it for a
 * fault rollback must live with) or ends, and writes its report into the
 * record.
 */
export interface FaultHook {
  readonly kind: string;
  /** A phase name as the strategy names it ("pre-dump 1" also matches "pre-dump 1 (page server)"), or "source cleanup". */
  readonly phase: string;
  /** Heal before rolling back (a cut link comes back); otherwise rollback runs with the fault in place (a destroyed VM). */
  readonly healBeforeRollback: boolean;
  /** Puts the fault in, now or after its delay: it does not wait for a delayed one. */
  inject(edges: { source: Edge; dest: Edge }): Promise<void>;
  /** Takes it away again (waiting for a delayed injection to settle first). */
  heal(): Promise<void>;
  report(): FaultRecord;
}

/** Whether a fault aimed at `target` goes in at the start of phase `name`. */
export function faultPhaseMatches(target: string, name: string): boolean {
  return name === target || name.startsWith(`${target} (`);
}
