// sharedlean: the unknown-path strategy's rootfs on the NFS share (nothing
// of it copied, as with shared), with lean's CRIU options, and its images
// kept out of NFS: every iteration's pages stream to a page server in the
// destination's memory and the final dump's small images are copied there,
// so neither the final dump nor the restore writes or reads images over NFS
// (with shared, both do).
import { fixedPhases, type Phase, type Strategy } from '../engine/types.js';
import { sharedRootfs } from '../storage/shared-rootfs.js';
import { lean } from './lean.js';
import { imagesCopy, pageServerDump, restoreOnDestination } from './steps.js';

export const sharedlean: Strategy = {
  name: 'sharedlean',
  summary: "rootfs on the NFS share; pre-dumps and final dump streamed to a page server in the destination's memory, lean's CRIU options, restore",
  storage: sharedRootfs,
  criuFeatures: lean.criuFeatures,
  ...(lean.criu ? { criu: lean.criu } : {}),
  pointOfNoReturn: 'restore',
  finalPagesOn: 'destination',
  ...fixedPhases((predumps) => {
    const phases: Phase[] = [];
    for (let i = 1; i <= predumps; i++) phases.push(pageServerDump(i));
    phases.push(pageServerDump('dump'), imagesCopy('dump', { rootfs: 'none' }), restoreOnDestination());
    return phases;
  }),
};
