// Copied storage (tmpfs, diskless and the strategies like them): the rootfs
// lives in the container's LXC directory on each edge and is rsynced; the
// images live in a tmpfs directory on each edge, each edge its own copy.
import { command } from '../edge-command.js';
import { ConfigError, FollowmeError, StateLostError } from '../../common/errors.js';
import { iterationDir } from '../engine/types.js';
import { portsFor, receiverRunDir } from '../engine/ports.js';
import { lxc } from '../lxc/commands.js';
import { removeFromFirstThatCan } from './remove-images.js';
import type { Edge } from '../edge.js';
import type { RsyncReceiver } from '../rsync/commands.js';
import type { StorageDriver, StoragePrepare } from './types.js';

/** On the guests /tmp is a tmpfs (Debian 13); set-up checks it is. */
export const TMPFS_ROOT = '/tmp/followme-migrations';

/**
 * The images' side of set-up for storage that keeps them in memory: their
 * directories on the destination, the source's tmpfs checked, and an rsync
 * daemon on the destination exporting `modules` alone. Sets `made` as it goes.
 */
export async function prepareImagesInMemory(
  { id, source, dest, workDir, iterationDirs, made }: StoragePrepare,
  modules: Record<string, string>,
): Promise<{ receiver: RsyncReceiver }> {
  made.destWorkDir = true;
  await dest.mkdirs(...iterationDirs);
  const fs = await source.fsType(workDir);
  if (fs !== 'tmpfs') throw new FollowmeError(`${source.name}: ${workDir} is on ${fs}, not tmpfs; the strategy keeps its images in memory`);
  made.receiver = true;
  return { receiver: await dest.startReceiver({ port: portsFor(id).receiver, modules, runDir: receiverRunDir(id) }, source.address) };
}

/** That daemon again, from a migration's journal entry (recover). */
export function imagesReceiverOf(e: { id: string; ports: { receiver: number } }, dest: Edge, modules: Record<string, string>): RsyncReceiver {
  return { address: dest.address, port: e.ports.receiver, modules, runDir: receiverRunDir(e.id) };
}

export const copied: StorageDriver = {
  name: 'copied',
  needsShare: false,
  workBase: () => TMPFS_ROOT,

  async check({ strategy, container, lxcDir, rootfs }) {
    if (!rootfs.startsWith(`${lxcDir}/`)) {
      throw new ConfigError(
        `strategy "${strategy}" copies ${lxcDir}, but ${container}'s rootfs is at ${rootfs}; use a strategy on shared storage (e.g. --strategy shared) for a shared rootfs`,
        'strategy',
      );
    }
  },

  async prepare(p) {
    p.made.destLxcDir = true;
    await p.dest.mkdirs(p.lxcDir);
    // The daemon exports the two directories the migration fills, nothing else.
    return prepareImagesInMemory(p, { work: p.workDir, container: p.lxcDir });
  },

  receiverOf: (e, dest) => imagesReceiverOf(e, dest, { work: e.workDir, container: e.lxcDir }),

  async removeImages(ctx, _runningOn, answering) {
    const left: string[] = [];
    for (const edge of [ctx.source, ctx.dest].filter((e) => answering.includes(e))) {
      const why = await removeFromFirstThatCan([edge], TMPFS_ROOT, ctx.workDir);
      if (why) left.push(why);
    }
    return left.length ? left.join('; ') : undefined;
  },

  imagesWhere: (ctx) => `${ctx.workDir} on ${ctx.source.name} and ${ctx.dest.name}`,

  // Pages a page server received live on the destination: bring the whole
  // image tree back so the source can restore from it. A destination that
  // went down since lost them with its tmpfs, and with them the container's memory.
  async recoverImages(ctx, pagesOn) {
    if (pagesOn === 'source') return;
    const pages = iterationDir(ctx, 'dump');
    if (!(await ctx.dest.exists(pages)))
      throw new StateLostError(
        `${ctx.container}'s in-memory state is lost: its final dump's pages were only on ${ctx.dest.name}, in ${pages} (tmpfs), which no longer exists: ${ctx.dest.name} went down, or the directory was removed`,
      );
    const receiver = await ctx.source.startReceiver(
      { port: ctx.pageServerPort + 1, modules: { work: ctx.workDir }, runDir: receiverRunDir(ctx.id, '-back') },
      ctx.dest.address,
    );
    try {
      await ctx.dest.push('rsync-images-back', 'rsync images back', ctx.workDir, receiver, { module: 'work' });
    } catch (e) {
      throw new FollowmeError(`could not bring the page server's images back from ${ctx.dest.name}: ${(e as Error).message}`, { cause: e });
    } finally {
      await ctx.source.stopReceiver(receiver);
    }
  },

  async removeSourceCopy(ctx) {
    await ctx.source.exec(command('lxc-destroy', lxc.destroy(ctx.container), { timeoutMs: 300_000 }));
  },
};
