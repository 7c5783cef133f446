// The shapes the engine and the strategies share. A strategy is a list of
// phases over one context; the engine runs them, times them, and rolls back.
import type { Inventory } from '../../common/inventory.js';
import type { ContainerProcess } from '../criu/commands.js';
import type { Edge } from '../edge.js';
import type { RsyncReceiver } from '../rsync/commands.js';
import type { FaultRecord, PhaseKind, PhaseRecord, StrategyName } from '../record/schema.js';

export interface MigrationContext {
  readonly id: string;
  readonly container: string;
  readonly inventory: Inventory;
  readonly source: Edge;
  readonly dest: Edge;
  /** The container's LXC directory (config, and the rootfs unless it is shared). */
  readonly lxcDir: string;
  /** Image directories of this migration: the same path on both edges, or on the share. */
  readonly workDir: string;
  readonly predumps: number;
  readonly proc: ContainerProcess;
  /** Page server port on the destination (diskless). */
  readonly pageServerPort: number;
  /** The rsync daemon on the destination, when the strategy copies. */
  receiver?: RsyncReceiver;
  /** Every dump done so far, in order; their stats are read after the phases. */
  readonly dumps: DumpDone[];
  /** Set once anything of the container exists on the destination. */
  destTouched: boolean;
  emit(e: MigrationEvent): Promise<void>;
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

export interface DumpDone {
  iteration: number;
  kind: 'pre-dump' | 'dump';
  imagesDir: string;
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
  run(ctx: MigrationContext): Promise<PhaseResult>;
}

export interface Strategy {
  name: StrategyName;
  summary: string;
  /** Copied: rootfs rsynced between the edges. Shared: rootfs and images on the NFS share. */
  storage: 'copied' | 'shared';
  /**
   * The phase whose end passes the point of no return: from then on the
   * container runs on the destination and cannot go back to the source. For
   * pre-copy strategies the restore; a post-copy one passes it earlier.
   */
  pointOfNoReturn: PhaseKind;
  /** The directory every migration's image directory is made in (on both edges, or on the share). */
  workBase(inventory: Inventory): string;
  /** The image directory of a migration; the same path on both edges. */
  workDir(inventory: Inventory, id: string): string;
  phases(predumps: number): Phase[];
  /**
   * After the final dump the container runs nowhere; to restore it on the
   * source, the source needs every image. Strategies whose images are not all
   * on the source (diskless: pages went to the destination) fetch them here.
   */
  recoverImages?(ctx: SettleContext): Promise<void>;
}

export type MigrationEvent =
  | { type: 'setup-done'; ms: number }
  | { type: 'phase-start'; name: string; kind: PhaseKind; iteration?: number }
  | { type: 'phase-end'; phase: PhaseRecord }
  | { type: 'step'; step: 'page-server-started' | 'receiver-started'; node: string; iteration?: number | 'dump' }
  | { type: 'progress'; phase: string; percent: number; rate: string }
  | { type: 'retry'; phase: string; error: string }
  | { type: 'rollback-start'; phase: string; error: string }
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
