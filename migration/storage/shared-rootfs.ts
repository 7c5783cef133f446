// Shared rootfs, images in memory: the container's rootfs lives on the NFS
// share (nothing of it is copied, as with shared), but its images live in a
// tmpfs directory on each edge, as with copied storage: pages stream to a
// page server on the destination and the small images are copied, so
// neither the final dump nor the restore writes or reads images over NFS.
import { copied, imagesReceiverOf, prepareImagesInMemory } from './copied.js';
import { shared } from './shared.js';
import type { StorageDriver } from './types.js';

export const sharedRootfs: StorageDriver = {
  name: 'shared-rootfs',
  needsShare: true,
  workBase: copied.workBase,
  check: (c) => shared.check(c),

  async prepare(p) {
    await shared.prepare(p);
    // The daemon exports the images' directory alone: the rootfs is on the share.
    return prepareImagesInMemory(p, { work: p.workDir });
  },

  receiverOf: (e, dest) => imagesReceiverOf(e, dest, { work: e.workDir }),
  removeImages: (ctx, runningOn, answering) => copied.removeImages(ctx, runningOn, answering),
  imagesWhere: (ctx) => copied.imagesWhere(ctx),
  recoverImages: (ctx, pagesOn) => copied.recoverImages(ctx, pagesOn),
  removeSourceCopy: (ctx) => shared.removeSourceCopy(ctx),
};
