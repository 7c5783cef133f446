// Before the first phase: check that the migration can start, and change
// nothing if it cannot. Then make the directories and receivers the phases
// need. Outside Ψ (the record keeps its time as setupMs).
import { ConfigError, ConflictError, FollowmeError } from '../../common/errors.js';
import type { Inventory } from '../../common/inventory.js';
import { RECEIVER_RUN_BASE, type Edge, type EdgeVersions } from '../edge.js';
import { underBase } from '../../common/input/remote-path.js';
import { LXC_PATH } from '../lxc/commands.js';
import type { ContainerProcess } from '../criu/commands.js';
import { postDumpHook, postDumpHookPath } from '../criu/post-dump-hook.js';
import type { RsyncReceiver } from '../rsync/commands.js';
import type { Strategy } from './types.js';
import { sharedMount } from '../strategies/shared.js';

export interface SetupResult {
  proc: ContainerProcess;
  versions: Record<string, EdgeVersions>;
  receiver?: RsyncReceiver;
  /** The container's config as found on the source. */
  config: string;
}

/** `lxc.rootfs.path = dir:/x/rootfs` → "/x/rootfs". */
export function rootfsPathOf(config: string): string | undefined {
  const m = /^\s*lxc\.rootfs\.path\s*=\s*(?:dir:)?(\S+)\s*$/m.exec(config);
  return m?.[1];
}

/** Where a migration's rsync daemon keeps its config and pid file (`-back`: the one diskless rollback starts on the source). */
export function receiverRunDir(id: string, suffix = ''): string {
  return underBase(RECEIVER_RUN_BASE, `followme-rsyncd-${id}${suffix}`);
}

/** What set-up has made so far, so that a set-up that fails takes back exactly that. */
export interface SetupMade {
  sourceWorkDir: boolean;
  destWorkDir: boolean;
  /** The container's (empty) directory on the destination: the rsync module the rootfs lands in. */
  destLxcDir: boolean;
  receiver: boolean;
}

export const nothingMade = (): SetupMade => ({ sourceWorkDir: false, destWorkDir: false, destLxcDir: false, receiver: false });

/** Ports of one migration, spread by its id so concurrent migrations do not collide. */
export function portsFor(id: string): { receiver: number; pageServer: number } {
  let h = 0;
  for (const ch of id) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  const slot = h % 5000;
  return { receiver: 20000 + slot * 2, pageServer: 30000 + slot * 2 };
}

export async function checkAndPrepare(o: {
  strategy: Strategy;
  inventory: Inventory;
  container: string;
  source: Edge;
  dest: Edge;
  workDir: string;
  /** Image directories of every iteration, made here so the timed phases need not. */
  iterationDirs: string[];
  id: string;
  /** Filled in as set-up makes things. */
  made: SetupMade;
  /** Called once every check has passed, before anything is made. */
  onChecked?: () => void;
}): Promise<SetupResult> {
  const { strategy, source, dest, container, made } = o;
  const lxcDir = underBase(LXC_PATH, container);

  // Checks first: nothing is changed until they all pass.
  const state = await source.state(container);
  if (state !== 'RUNNING') {
    throw new ConfigError(`container ${container} is ${state ?? 'absent'} on ${source.name}; only a RUNNING container can be migrated`, 'container');
  }
  if ((await dest.state(container)) !== undefined || (await dest.exists(lxcDir))) {
    throw new ConflictError(`container ${container} already exists on ${dest.name} (${lxcDir}); remove it there first`);
  }
  const config = (await source.readFile(`${lxcDir}/config`, 'read config')).toString('utf8');
  const rootfs = rootfsPathOf(config);
  if (!rootfs) throw new FollowmeError(`${source.name}: ${lxcDir}/config has no lxc.rootfs.path`);
  if (strategy.storage === 'shared') {
    const mount = sharedMount(o.inventory);
    if (!rootfs.startsWith(`${mount}/`)) {
      throw new ConfigError(
        `strategy "shared" needs the container's rootfs on the share ${mount}, but ${container} has it at ${rootfs}; deploy it with --shared`,
        'strategy',
      );
    }
    for (const e of [source, dest]) {
      const fs = await e.fsType(mount);
      if (!fs.startsWith('nfs')) throw new FollowmeError(`${e.name}: ${mount} is ${fs}, not the NFS share`);
    }
  } else {
    if (!rootfs.startsWith(`${lxcDir}/`)) {
      throw new ConfigError(
        `strategy "${strategy.name}" copies ${lxcDir}, but ${container}'s rootfs is at ${rootfs}; use --strategy shared for a shared rootfs`,
        'strategy',
      );
    }
  }
  const versions = { [source.name]: await source.versions(), [dest.name]: await dest.versions() };
  const proc = await source.containerProcess(container);

  // Set-up.
  o.onChecked?.();
  made.sourceWorkDir = true;
  await source.makeDumpDirs(o.iterationDirs, { path: postDumpHookPath(o.workDir), text: postDumpHook(proc.hostLinks) });
  made.destLxcDir = true;
  await dest.mkdirs(lxcDir);
  if (strategy.storage === 'copied') {
    made.destWorkDir = true;
    await dest.mkdirs(...o.iterationDirs);
    const fs = await source.fsType(o.workDir);
    if (fs !== 'tmpfs') throw new FollowmeError(`${source.name}: ${o.workDir} is on ${fs}, not tmpfs; the strategy keeps its images in memory`);
    // The daemon exports the two directories the migration fills, nothing else.
    made.receiver = true;
    const receiver = await dest.startReceiver(
      { port: portsFor(o.id).receiver, modules: { work: o.workDir, container: lxcDir }, runDir: receiverRunDir(o.id) },
      source.address,
    );
    return { proc, versions, receiver, config };
  }
  // Shared rootfs: the destination needs only the config.
  await dest.writeFile(`${lxcDir}/config`, config);
  return { proc, versions, config };
}
