// lean: the paper's disk-less strategy with the fixed costs it measured
// trimmed out of the downtime, each kept because the strategies bench
// showed it helped (docs/fast-migration.md has the figures):
// - CRIU locks the network with one nftables table instead of the
//   iptables-save/-restore and ip execs of its default lock;
// - --force-irmap only when the container holds inotify watches, the one
//   thing it is for (LXC always passes it);
// - /run/criu.kdat, CRIU's cache of its kernel checks, made in set-up on
//   both edges if a reboot took it, so no timed CRIU run pays for it;
// - the final rootfs sync sends only what changed since the first copy
//   began, and nothing at all when nothing did;
// - the network namespace is left out of the dump and prepared on the
//   destination before the freeze; the restore joins it (lxc/network.ts).
// Pages of every iteration stream to a page server on the destination, as
// with diskless; --pre-dump-mode=read is left out: with it, a restore failed
// on a corrupt vDSO here (docs/fast-migration.md).
import type { CriuTuning } from '../criu/commands.js';
import type { CriuFeature } from '../criu/features.js';
import { fixedPhases, type Phase, type Strategy } from '../engine/types.js';
import { copied } from '../storage/copied.js';
import { imagesCopy, pageServerDump, restoreOnDestination, rootfsCopy } from './steps.js';

/** lean's CRIU options: the post-copy strategies keep them. */
export const LEAN_TUNING: CriuTuning = { networkLock: 'nftables', preDumpMode: 'splice', forceIrmap: 'if-inotify', warmKdat: true, network: 'prepared' };

/** What lean's options need of CRIU: pre-dumps, the nftables lock, the namespace left out. */
export const LEAN_FEATURES: readonly CriuFeature[] = ['mem_dirty_track', 'network_lock_nftables', 'external_net_ns'];

export const lean: Strategy = {
  name: 'lean',
  summary:
    'diskless with an nftables network lock, --force-irmap only for inotify, a final rootfs sync of the changes alone, and the network namespace prepared on the destination instead of dumped',
  storage: copied,
  criuFeatures: LEAN_FEATURES,
  criu: LEAN_TUNING,
  pointOfNoReturn: 'restore',
  finalPagesOn: 'destination',
  ...fixedPhases((predumps) => {
    const phases: Phase[] = [rootfsCopy({ markChanges: true })];
    for (let i = 1; i <= predumps; i++) phases.push(pageServerDump(i));
    phases.push(pageServerDump('dump'), imagesCopy('dump', { rootfs: 'changed' }), restoreOnDestination());
    return phases;
  }),
};
