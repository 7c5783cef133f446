// postcopy: the rootfs copied while the container runs, then a lazy final
// dump (criu/lazy.ts): the container is frozen only for what is not its
// anonymous memory, restored on the destination at once, and its pages
// follow, fetched on each fault and pushed in the background until none is
// left. The downtime no longer grows with the working set; the price is the
// lazy window after the restore, in which the container's memory is split
// between the two edges: losing the source, or the link, then loses its
// state (the record says so, with the pages that never arrived).
// lean's CRIU options (an nftables lock, the network prepared on the
// destination, whose restore config also asks for the lazy pages).
import { fixedPhases, type Strategy } from '../engine/types.js';
import { copied } from '../storage/copied.js';
import { LEAN_FEATURES, LEAN_TUNING } from './lean.js';
import { lazyDump, lazyPagesPull, lazyRestore } from './lazy-steps.js';
import { imagesCopy, rootfsCopy } from './steps.js';

export const postcopy: Strategy = {
  name: 'postcopy',
  summary: 'rsync rootfs, lazy final dump, restore at once on the destination, the pages fetched on fault and pushed in the background from the frozen source',
  storage: copied,
  criuFeatures: [...LEAN_FEATURES, 'uffd', 'uffd-noncoop'],
  criu: LEAN_TUNING,
  // The container runs on the destination once restored; the lazy window after it cannot go back.
  pointOfNoReturn: 'restore',
  // The lazy pages never leave the source's dump before the restore: a rollback resumes the source's tasks.
  finalPagesOn: 'source',
  ...fixedPhases(() => [rootfsCopy({ markChanges: true }), lazyDump(), imagesCopy('dump', { rootfs: 'changed' }), lazyRestore(), lazyPagesPull()]),
  // No pre-dumps: that is hybrid.
  maxPreDumps: () => 0,
};
