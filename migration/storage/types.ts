// A storage driver: where a strategy's root file system and images live, as
// p.haul's fs haulers are. It owns what the engine would otherwise branch
// on: its checks, the destination's preparation, the image directories'
// base, their removal and recovery, and the source copy's removal.
import type { Inventory } from '../../common/inventory.js';
import type { Edge } from '../edge.js';
import type { RsyncReceiver } from '../rsync/commands.js';
import type { SettleContext } from '../engine/types.js';

/** What set-up has made so far, so that a set-up that fails takes back exactly that. */
export interface SetupMade {
  sourceWorkDir: boolean;
  destWorkDir: boolean;
  /** The container's (empty) directory on the destination: the rsync module the rootfs lands in. */
  destLxcDir: boolean;
  receiver: boolean;
  /** The container's network namespace, prepared on the destination (lxc/network.ts). */
  destNetwork: boolean;
}

export interface StorageCheck {
  strategy: string;
  inventory: Inventory;
  container: string;
  lxcDir: string;
  /** The container's rootfs path as its config gives it. */
  rootfs: string;
  source: Edge;
  dest: Edge;
}

export interface StoragePrepare {
  id: string;
  source: Edge;
  dest: Edge;
  lxcDir: string;
  workDir: string;
  /** Every iteration's image directory. */
  iterationDirs: string[];
  /** The container's config as read on the source. */
  config: string;
  made: SetupMade;
}

export interface StorageDriver {
  readonly name: 'copied' | 'shared' | 'shared-rootfs';
  /** Whether the testbed needs the NFS share for it. */
  readonly needsShare: boolean;
  /** The directory every migration's image directory is made in (on both edges, or on the share). */
  workBase(inventory: Inventory): string;
  /** Refuses (ConfigError) a container whose rootfs this storage does not hold; changes nothing. */
  check(c: StorageCheck): Promise<void>;
  /** What the destination needs before the first phase; sets `made` as it goes. */
  prepare(p: StoragePrepare): Promise<{ receiver?: RsyncReceiver }>;
  /** The receiver a migration of this storage ran on the destination, rebuilt from its journal entry (recover). */
  receiverOf(e: { id: string; workDir: string; lxcDir: string; ports: { receiver: number } }, dest: Edge): RsyncReceiver | undefined;
  /**
   * Removes the migration's images, once the container runs on `runningOn`,
   * through the edges in `answering` only (a destination that could not be
   * cleaned is not asked again). Returns what could not be removed.
   */
  removeImages(ctx: SettleContext, runningOn: Edge, answering: readonly Edge[]): Promise<string | undefined>;
  /** Where the images are, for a message that says they were kept. */
  imagesWhere(ctx: SettleContext): string;
  /**
   * The final dump's images brought to the source so it can restore from
   * them; `pagesOn` says where the final dump put its pages.
   */
  recoverImages(ctx: SettleContext, pagesOn: 'source' | 'destination'): Promise<void>;
  /** After success: the source's copy of the container (stopped) removed. */
  removeSourceCopy(ctx: SettleContext): Promise<void>;
}
