// hybrid: adaptive's pre-copy rounds (each a pre-dump to the source's tmpfs
// and its copy to the destination, while the container runs, until the stop
// rule holds), then postcopy's lazy final dump, whose pages unchanged since
// the last round come from that round's images on the destination. Most
// pages move while the container runs; the ones dirtied since the last round
// follow on demand, so the lazy window is shorter than postcopy's and the
// freeze shorter than adaptive's.
import type { Strategy } from '../engine/types.js';
import { copied } from '../storage/copied.js';
import { measuredRounds } from './adaptive.js';
import { LEAN_FEATURES, LEAN_TUNING } from './lean.js';
import { lazyDump, lazyPagesPull, lazyRestore } from './lazy-steps.js';
import { imagesCopy, localPreDumpCopied, rootfsCopy } from './steps.js';
import { PRE_COPY_LIMITS, type PreCopyLimits } from './stop-rule.js';

/**
 * Adaptive's rule with two rounds at most: the lazy dump takes whatever they
 * leave, so more rounds buy little, and each one's images stay in the
 * destination's tmpfs until the move ends (at 40 MB/s over 256 MB a third
 * round filled it).
 */
export const HYBRID_LIMITS: PreCopyLimits = { ...PRE_COPY_LIMITS, maxRounds: 2 };

export const hybrid: Strategy = {
  name: 'hybrid',
  summary: 'rsync rootfs, pre-dump rounds to tmpfs, each copied, until the stop rule holds, lazy final dump, restore at once, the last pages on demand',
  storage: copied,
  criuFeatures: [...LEAN_FEATURES, 'uffd', 'uffd-noncoop'],
  criu: LEAN_TUNING,
  pointOfNoReturn: 'restore',
  finalPagesOn: 'source',
  ...measuredRounds({
    first: () => rootfsCopy({ markChanges: true }),
    round: (i) => localPreDumpCopied(i),
    final: () => lazyDump(),
    after: () => [imagesCopy('dump', { rootfs: 'changed' }), lazyRestore(), lazyPagesPull()],
    limits: HYBRID_LIMITS,
  }),
};
