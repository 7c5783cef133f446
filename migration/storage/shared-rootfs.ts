// Shared rootfs, images in memory: the container's rootfs lives on the NFS
// share (nothing of it is copied, as with shared), but its images live in a
// tmpfs directory on each edge, as with copied storage: pages stream to a
// page server on the destination and the small images are copied, so
// neither the final dump nor the restore writes or reads images over NFS.
import { FollowmeError } from '../../common/errors.js';
import { portsFor, receiverRunDir } from '../engine/ports.js';
import { copied } from './copied.js';
import { shared } from './shared.js';
import type { StorageDriver } from './types.js';

export const sharedRootfs: StorageDriver = {
  name: 'shared-rootfs',
  needsShare: true,
  workBase: copied.workBase,
  check: (c) => shared.check(c),

  async prepare({ id, source, dest, lxcDir, workDir, iterationDirs, config, made }) {
    await shared.prepare({ id, source, dest, lxcDir, workDir, iterationDirs, config, made });
    made.destWorkDir = true;
    await dest.mkdirs(...iterationDirs);
    const fs = await source.fsType(workDir);
    if (fs !== 'tmpfs') throw new FollowmeError(`${source.name}: ${workDir} is on ${fs}, not tmpfs; the strategy keeps its images in memory`);
    // The daemon exports the images' directory alone: the rootfs is on the share.
    made.receiver = true;
    const receiver = await dest.startReceiver({ port: portsFor(id).receiver, modules: { work: workDir }, runDir: receiverRunDir(id) }, source.address);
    return { receiver };
  },

  receiverOf: (e, dest) => ({ address: dest.address, port: e.ports.receiver, modules: { work: e.workDir }, runDir: receiverRunDir(e.id) }),
  removeImages: (ctx, runningOn, answering) => copied.removeImages(ctx, runningOn, answering),
  imagesWhere: (ctx) => copied.imagesWhere(ctx),
  recoverImages: (ctx, pagesOn) => copied.recoverImages(ctx, pagesOn),
  removeSourceCopy: (ctx) => shared.removeSourceCopy(ctx),
};
