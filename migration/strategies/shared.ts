// shared (paper III.C, unknown path): the rootfs lives on the NFS share, so
// nothing is copied; pre-dumps and the final dump are written into the share
// and the destination restores straight from it. Needs the three-vm-nfs
// testbed and a container deployed onto the share.
import { ConfigError } from '../../common/errors.js';
import type { Phase, Strategy } from '../engine/types.js';
import { underBase } from '../../common/input/remote-path.js';
import { localDump, restoreOnDestination } from './steps.js';

export function sharedMount(inventory: { nfs?: { mountPoint: string } | undefined; prefix: string }): string {
  if (!inventory.nfs) {
    throw new ConfigError(`strategy "shared" needs a testbed with an NFS server (stack three-vm-nfs); testbed ${inventory.prefix} has none`, 'strategy');
  }
  return inventory.nfs.mountPoint;
}

export const shared: Strategy = {
  name: 'shared',
  summary: 'rootfs and images on the NFS share: pre-dumps and final dump into it, restore from it',
  storage: 'shared',
  pointOfNoReturn: 'restore',
  workBase: (inventory) => underBase(sharedMount(inventory), 'migrations'),
  workDir: (inventory, id) => underBase(sharedMount(inventory), 'migrations', id),
  phases(predumps) {
    const phases: Phase[] = [];
    for (let i = 1; i <= predumps; i++) phases.push(localDump(i, { onShare: true }));
    phases.push(localDump('dump', { onShare: true }), restoreOnDestination());
    return phases;
  },
};
