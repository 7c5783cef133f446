// Shared storage (the paper's unknown-path strategy): the rootfs and the
// images live on the testbed's NFS share, which both edges mount at the same
// place, so nothing is copied; the destination needs only the config.
import { ConfigError, FollowmeError } from '../../common/errors.js';
import { underBase } from '../../common/input/remote-path.js';
import { LXC_PATH } from '../lxc/commands.js';
import { removeFromFirstThatCan } from './remove-images.js';
import type { StorageDriver } from './types.js';

export function sharedMount(inventory: { nfs?: { mountPoint: string } | undefined; prefix: string }): string {
  if (!inventory.nfs) {
    throw new ConfigError(`shared storage needs a testbed with an NFS server (stack three-vm-nfs); testbed ${inventory.prefix} has none`, 'strategy');
  }
  return inventory.nfs.mountPoint;
}

export const shared: StorageDriver = {
  name: 'shared',
  needsShare: true,
  workBase: (inventory) => underBase(sharedMount(inventory), 'migrations'),

  async check({ strategy, inventory, container, rootfs, source, dest }) {
    const mount = sharedMount(inventory);
    if (!rootfs.startsWith(`${mount}/`)) {
      throw new ConfigError(
        `strategy "${strategy}" needs the container's rootfs on the share ${mount}, but ${container} has it at ${rootfs}; deploy it with --shared`,
        'strategy',
      );
    }
    for (const e of [source, dest]) {
      const fs = await e.fsType(mount);
      if (!fs.startsWith('nfs')) throw new FollowmeError(`${e.name}: ${mount} is ${fs}, not the NFS share`);
    }
  },

  async prepare({ dest, lxcDir, config, made }) {
    made.destLxcDir = true;
    await dest.mkdirs(lxcDir);
    await dest.writeFile(`${lxcDir}/config`, config);
    return {};
  },

  receiverOf: () => undefined,

  // The edge that restored the container keeps a file of the final dump open
  // (which process holds it is not yet known): removed there, NFS only renames
  // it to .nfs… and its directory cannot go. Removed from the other edge, the
  // server deletes it.
  async removeImages(ctx, runningOn, answering) {
    const idle = runningOn === ctx.source ? ctx.dest : ctx.source;
    return removeFromFirstThatCan(
      [idle, runningOn].filter((e) => answering.includes(e)),
      shared.workBase(ctx.inventory),
      ctx.workDir,
    );
  },

  imagesWhere: (ctx) => `${ctx.workDir} on the share`,

  // Every image is on the share, where the source reads it.
  async recoverImages() {},

  // The rootfs is the live container's: only the source's config directory goes.
  async removeSourceCopy(ctx) {
    await ctx.source.removeUnder('remove-config-dir', LXC_PATH, ctx.lxcDir);
  },
};
