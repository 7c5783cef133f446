// diskless (paper III.B, pre-defined path): rsync the rootfs while the
// container runs; for every iteration a CRIU page server on the destination
// receives the pages (parent-linked to the previous iteration), so no page
// touches the source's disk; the remaining small images and a last rootfs
// sync are copied after the final dump; restore on the destination.
import { fixedPhases, type Phase, type Strategy } from '../engine/types.js';
import { copied } from '../storage/copied.js';
import { imagesCopy, pageServerDump, restoreOnDestination, rootfsCopy } from './steps.js';

export const diskless: Strategy = {
  name: 'diskless',
  summary: 'rsync rootfs, pre-dumps and final dump streamed to a page server on the destination, restore',
  storage: copied,
  criuFeatures: ['mem_dirty_track'],
  pointOfNoReturn: 'restore',
  // A rollback after the final dump brings the pages back from the destination's tmpfs.
  finalPagesOn: 'destination',
  ...fixedPhases((predumps) => {
    const phases: Phase[] = [rootfsCopy()];
    for (let i = 1; i <= predumps; i++) phases.push(pageServerDump(i));
    phases.push(pageServerDump('dump'), imagesCopy('dump'), restoreOnDestination());
    return phases;
  }),
};
