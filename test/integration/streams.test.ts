// Issue #20: a live TCP stream comes through a migration intact. Two
// clients with full sockets at the freeze, every byte checked: a
// progressive download of the video (one GET read at the video's rate), and
// the tcp workload's source and echo streams (checked at both ends). Each
// moves once by each strategy: by tmpfs edge-a → edge-b and diskless back
// on two-vm (the order in which a real player's connection was reset), and
// by shared on the corridor (stream-moves.ts says what is checked).
//
// The reset came from the old copy, in the milliseconds in which the kernel
// tears its network namespace down without CRIU's lock
// (docs/tcp-streams.md). A stream hits that moment only now and then; the
// old-copy probe beside the video's moves knocks twice a millisecond.
// Without the final dump's post-dump hook, this test failed here: the old
// copy refused the probe after diskless's final dump.
import { describe, it } from 'vitest';
import type { StrategyName } from '../../migration/record/schema.js';
import { strategyNamed } from '../../migration/strategies/index.js';
import { moveWithStreams, STREAM_SUBJECTS, streamContainers } from './stream-moves.js';

function streamsOn(stack: 'twoVmInventory' | 'corridorInventory', strategies: readonly StrategyName[]) {
  const suite = streamContainers(stack, strategies);
  const onShare = strategies.some((s) => strategyNamed(s).storage.needsShare) ? '-nfs' : '';
  for (const [i, s] of [STREAM_SUBJECTS.progressive, STREAM_SUBJECTS.tcp].entries()) {
    it(`${s.workload}: ${strategies.join(', then ')}, every byte checked, no reset${s.probePort ? ', the old copy silent' : ''}`, async () => {
      await moveWithStreams(suite.inv(), suite.container(`st-${s.workload}${onShare}`, s.workload, i), s, strategies);
    });
  }
}

describe('live TCP streams through a migration (two-vm: tmpfs there, diskless back)', () => {
  streamsOn('twoVmInventory', ['tmpfs', 'diskless']);
});

describe('live TCP streams through a migration (corridor: shared)', () => {
  streamsOn('corridorInventory', ['shared']);
});
