// tmpfs (paper III.B, pre-defined path): rsync the rootfs while the container
// runs; N pre-dumps into a tmpfs directory on the source, each rsynced to the
// same tmpfs directory on the destination; the final dump (container frozen),
// its rsync and a last rootfs sync; restore on the destination.
import { fixedPhases, type Phase, type Strategy } from '../engine/types.js';
import { copied } from '../storage/copied.js';
import { imagesCopy, localDump, restoreOnDestination, rootfsCopy } from './steps.js';

export const tmpfs: Strategy = {
  name: 'tmpfs',
  summary: 'rsync rootfs, pre-dumps into tmpfs rsynced across, final dump, restore',
  storage: copied,
  criuFeatures: ['mem_dirty_track'],
  pointOfNoReturn: 'restore',
  finalPagesOn: 'source',
  ...fixedPhases((predumps) => {
    const phases: Phase[] = [rootfsCopy()];
    for (let i = 1; i <= predumps; i++) phases.push(localDump(i), imagesCopy(i));
    phases.push(localDump('dump'), imagesCopy('dump'), restoreOnDestination());
    return phases;
  }),
};
