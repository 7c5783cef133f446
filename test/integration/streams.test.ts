// Issue #20: a live TCP stream comes through a migration intact. Two
// clients with full sockets at the freeze, every byte checked: a
// progressive download of the video (one GET read at the video's rate), and
// the tcp workload's source and echo streams (checked at both ends). Each
// moves once by each strategy: by tmpfs edge-a → edge-b and diskless back
// on two-vm (the order in which a real player's connection was reset), and
// by shared on three-vm-nfs. The client must see no error (no reset, no
// byte that differs), keep its connections, and go on reading after the
// source's cleanup.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { readInventory } from '../../common/inventory.js';
import { sleep } from '../../common/poll.js';
import { ensureContainer, type ExperimentContainer, removeContainers } from '../../experiment/containers.js';
import { migrate } from '../../migration/engine/migrate.js';
import type { StrategyName } from '../../migration/record/schema.js';
import { eventually } from '../../workloads/http.js';
import { workloadNamed } from '../../workloads/index.js';
import type { WorkloadName } from '../../workloads/types.js';

const log = () => undefined;

interface Subject {
  workload: WorkloadName;
  params: Record<string, unknown>;
  /** Bytes the client reads in 10 s, at least: it goes on after the move. */
  minBytesPer10s: number;
}

const SUBJECTS: Subject[] = [
  // A 150 s video at 1,560 kbit/s: the GET lasts through the moves, and nginx's socket stays full.
  { workload: 'video', params: { ...workloadNamed('video').defaults, durationS: 150, client: 'progressive' }, minBytesPer10s: 500_000 },
  { workload: 'tcp', params: { ...workloadNamed('tcp').defaults }, minBytesPer10s: 1_000_000 },
];

function streamsOn(stack: 'twoVmInventory' | 'threeVmNfsInventory', strategies: readonly StrategyName[]) {
  const inv = () => readInventory(inject(stack));
  const made: ExperimentContainer[] = [];
  afterAll(async () => {
    await removeContainers(inv(), made);
  });

  for (const [i, s] of SUBJECTS.entries()) {
    it(
      `${s.workload}: ${strategies.join(', then ')}, every byte checked, no reset`,
      async () => {
        const iv = inv();
        const shared = strategies.includes('shared');
        const addr = iv.containerAddresses[i]!;
        const c: ExperimentContainer = { name: `st-${s.workload}${shared ? '-nfs' : ''}`, workload: s.workload, shared, ip: addr.ip, mac: addr.mac };
        made.push(c);
        const workload = workloadNamed(s.workload);
        let where = await ensureContainer(iv, c, s.params, log);
        // The service answers, and for tcp its streams listen, before the client starts.
        const before = await eventually(() => workload.readState(c.ip));
        const client = await workload.startClient!(c.ip, s.params as never, { maxMs: 15 * 60_000 });
        const started = Date.now();
        for (const strategy of strategies) {
          const to = where === 'edge-a' ? 'edge-b' : 'edge-a';
          const r = await migrate({ inventory: iv, strategy, container: c.name, from: where, to });
          expect(r.outcome, `${strategy} ${where} → ${to}`).toBe('migrated');
          expect(r.cleanupWarning).toBeUndefined();
          where = to;
        }
        // Ten seconds of streaming after the last source cleanup: the reset seen with a real player came in those seconds.
        await sleep(10_000);
        const report = await client.stop();
        expect(report.error, `${report.kind}: ${report.error}`).toBeUndefined();
        expect(report.connections).toBe(s.workload === 'tcp' ? 2 : 1);
        expect(report.verifiedBytes).toBe(report.bytes);
        expect(report.verifiedBytes).toBeGreaterThan((s.minBytesPer10s * (Date.now() - started)) / 10_000 / 4);
        const after = await workload.readState(c.ip);
        expect(after.intact, after.text).toBe(true);
        expect(after.progress).toBeGreaterThan(before.progress);
      },
      15 * 60_000,
    );
  }
}

// Not yet in every run: a real player's connection was reset after a move, and until its cause is found and fixed a
// failure here would say nothing new. FOLLOWME_STREAMS=1 runs it; `npm run bench -- streams` repeats the moves.
const ON = process.env['FOLLOWME_STREAMS'] === '1';

describe.runIf(ON)('live TCP streams through a migration (two-vm: tmpfs there, diskless back)', () => {
  streamsOn('twoVmInventory', ['tmpfs', 'diskless']);
});

describe.runIf(ON)('live TCP streams through a migration (three-vm-nfs: shared)', () => {
  streamsOn('threeVmNfsInventory', ['shared']);
});
