// tmpfs (paper III.B, pre-defined path): rsync the rootfs while the container
// runs; N pre-dumps into a tmpfs directory on the source, each rsynced to the
// same tmpfs directory on the destination; the final dump (container frozen),
// its rsync and a last rootfs sync; restore on the destination.
import type { Phase, Strategy } from '../engine/types.js';
import { underBase } from '../../common/input/remote-path.js';
import { imagesCopy, localDump, restoreOnDestination, rootfsCopy } from './steps.js';

/** On the guests /tmp is a tmpfs (Debian 13); set-up checks it is. */
export const TMPFS_ROOT = '/tmp/followme-migrations';

export const tmpfs: Strategy = {
  name: 'tmpfs',
  summary: 'rsync rootfs, pre-dumps into tmpfs rsynced across, final dump, restore',
  storage: 'copied',
  pointOfNoReturn: 'restore',
  workBase: () => TMPFS_ROOT,
  workDir: (_inventory, id) => underBase(TMPFS_ROOT, id),
  phases(predumps) {
    const phases: Phase[] = [rootfsCopy()];
    for (let i = 1; i <= predumps; i++) phases.push(localDump(i), imagesCopy(i));
    phases.push(localDump('dump'), imagesCopy('dump'), restoreOnDestination());
    return phases;
  },
};
