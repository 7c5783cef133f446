// shared (paper III.C, unknown path): the rootfs lives on the NFS share, so
// nothing is copied; pre-dumps and the final dump are written into the share
// and the destination restores straight from it. Needs the three-vm-nfs
// testbed and a container deployed onto the share.
import { fixedPhases, type Phase, type Strategy } from '../engine/types.js';
import { shared as sharedStorage } from '../storage/shared.js';
import { localDump, restoreOnDestination } from './steps.js';

export const shared: Strategy = {
  name: 'shared',
  summary: 'rootfs and images on the NFS share: pre-dumps and final dump into it, restore from it',
  storage: sharedStorage,
  criuFeatures: ['mem_dirty_track'],
  pointOfNoReturn: 'restore',
  finalPagesOn: 'source',
  ...fixedPhases((predumps) => {
    const phases: Phase[] = [];
    for (let i = 1; i <= predumps; i++) phases.push(localDump(i, { onShare: true }));
    phases.push(localDump('dump', { onShare: true }), restoreOnDestination());
    return phases;
  }),
};
