// Issue #21's strategies end to end (blank moves by every registered
// strategy in showcase.test.ts). On two-vm: the video's one connection,
// every byte checked, through a move by adaptive there and lean back, and
// the memory workload's checksum going on through the same two moves, with
// adaptive's record saying which rule stopped its rounds. On the corridor:
// the video's connection through one move by sharedlean.
import { describe, expect, it } from 'vitest';
import { ensureContainer } from '../../experiment/containers.js';
import { migrate } from '../../migration/engine/migrate.js';
import { workloadNamed } from '../../workloads/index.js';
import { eventually } from '../../workloads/http.js';
import { moveWithStreams, STREAM_SUBJECTS, streamContainers } from './stream-moves.js';

const NEW = ['adaptive', 'lean'] as const;

describe('the fast strategies keep a live connection and the memory (two-vm: adaptive there, lean back)', () => {
  const suite = streamContainers('twoVmInventory', NEW);

  it('video: the player’s one connection survives, every byte checked, the old copy silent', async () => {
    await moveWithStreams(suite.inv(), suite.container('fast-video', 'video', 0), STREAM_SUBJECTS.progressive, NEW);
  });

  it('memory at 2 MB/s over 64 MB: the checksum goes on; adaptive says why it stopped its rounds', async () => {
    const c = suite.container('fast-memory', 'memory', 1);
    const memory = workloadNamed('memory');
    const params = { rateMBps: 2, workingSetMB: 64 };
    let where = await ensureContainer(suite.inv(), c, params, () => undefined);
    const before = await eventually(() => memory.readState(c.ip));
    for (const strategy of NEW) {
      const to = where === 'edge-a' ? 'edge-b' : 'edge-a';
      const r = await migrate({ inventory: suite.inv(), strategy, container: c.name, from: where, to });
      expect(r.outcome, `${strategy} ${where} → ${to}`).toBe('migrated');
      if (strategy === 'adaptive') {
        const rounds = r.phases.filter((p) => p.kind === 'pre-dump');
        expect(rounds.length).toBeGreaterThanOrEqual(1);
        expect(r.iterations.filter((i) => i.kind === 'pre-dump')).toHaveLength(rounds.length);
        expect(r.phases.find((p) => p.kind === 'final-dump')!.decision?.rule).toMatch(
          /^(few-pages|predicted-under-target|no-convergence|round-limit|time-cap)$/,
        );
      }
      where = to;
    }
    const after = await eventually(() => memory.readState(c.ip));
    expect(after.intact, after.text).toBe(true);
    expect(after.progress).toBeGreaterThan(before.progress);
  });
});

describe('sharedlean keeps a live connection (corridor)', () => {
  const suite = streamContainers('corridorInventory', ['sharedlean']);
  it('video on the share: the player’s one connection survives the move, every byte checked, the old copy silent', async () => {
    await moveWithStreams(suite.inv(), suite.container('fast-video-nfs', 'video', 1), STREAM_SUBJECTS.progressive, ['sharedlean']);
  });
});
