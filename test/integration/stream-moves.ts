// A workload's client streaming while its container is moved, by one
// strategy after another, every byte checked (issue #20). Used by
// streams.test.ts (npm test: one move per strategy) and by the fault
// matrix's plain migrations (npm run test:faults).
import { afterAll, expect, inject } from 'vitest';
import { type Inventory, readInventory } from '../../common/inventory.js';
import { sleep } from '../../common/poll.js';
import { ensureContainer, type ExperimentContainer, removeContainers } from '../../experiment/containers.js';
import { migrate } from '../../migration/engine/migrate.js';
import { strategyNamed } from '../../migration/strategies/index.js';
import type { StrategyName } from '../../migration/record/schema.js';
import { eventually } from '../../workloads/http.js';
import { workloadNamed } from '../../workloads/index.js';
import type { ClientReport, WorkloadName } from '../../workloads/types.js';
import { oldCopyProbe } from './old-copy-probe.js';

export interface StreamSubject {
  workload: WorkloadName;
  params: Record<string, unknown>;
  /** Bytes the client reads in 10 s, at least: it goes on after the moves. */
  minBytesPer10s: number;
  /** A port that takes any number of connections, for the old-copy probe (the tcp server would count probes as clients). */
  probePort?: number;
}

export const STREAM_SUBJECTS: Record<'progressive' | 'tcp', StreamSubject> = {
  // A 150 s video at 1,560 kbit/s: the GET lasts through the moves, and nginx's socket stays full.
  progressive: {
    workload: 'video',
    params: { ...workloadNamed('video').defaults, durationS: 150, client: 'progressive' },
    minBytesPer10s: 500_000,
    probePort: 80,
  },
  tcp: { workload: 'tcp', params: { ...workloadNamed('tcp').defaults }, minBytesPer10s: 1_000_000 },
};

const log = () => undefined;

/**
 * A suite's stream containers on one stack: each made with the stack's
 * `addressIndex`-th container address, on the share when the strategies
 * include shared, and removed once the suite ends.
 */
export function streamContainers(stack: 'twoVmInventory' | 'corridorInventory', strategies: readonly StrategyName[]) {
  const inv = () => readInventory(inject(stack));
  const shared = strategies.some((s) => strategyNamed(s).storage.needsShare);
  const made: ExperimentContainer[] = [];
  afterAll(async () => {
    await removeContainers(inv(), made);
  });
  return {
    inv,
    container(name: string, workload: WorkloadName, addressIndex: number): ExperimentContainer {
      const addr = inv().containerAddresses[addressIndex]!;
      const c: ExperimentContainer = { name, workload, shared, ip: addr.ip, mac: addr.mac };
      made.push(c);
      return c;
    },
  };
}

/**
 * Deploys `c` (if it is not there), starts its client, moves it by each of
 * `strategies` in turn between edge-a and edge-b, streams 10 s more (a reset
 * after the source's cleanup shows too), and checks: every move migrated
 * with a clean cleanup, no old copy answered, no client error, every
 * connection kept, every byte checked, the state intact and going on.
 */
export async function moveWithStreams(inv: Inventory, c: ExperimentContainer, s: StreamSubject, strategies: readonly StrategyName[]): Promise<void> {
  const workload = workloadNamed(s.workload);
  let where = await ensureContainer(inv, c, s.params, log);
  // The service answers, and for tcp its streams listen, before the client starts.
  const before = await eventually(() => workload.readState(c.ip));
  const client = await workload.startClient!(c.ip, s.params as never, { maxMs: 15 * 60_000 });
  const started = Date.now();
  let report: ClientReport;
  try {
    for (const strategy of strategies) {
      const to = where === 'edge-a' ? 'edge-b' : 'edge-a';
      const probe = s.probePort ? oldCopyProbe(c.ip, s.probePort) : undefined;
      const r = await migrate({ inventory: inv, strategy, container: c.name, from: where, to, ...(probe ? { onEvent: probe.onEvent } : {}) });
      expect(r.outcome, `${strategy} ${where} → ${to}`).toBe('migrated');
      expect(r.cleanupWarning).toBeUndefined();
      if (probe) {
        const seen = await probe.stop();
        expect(seen.attempts, 'the probe ran through the final dump').toBeGreaterThan(100);
        expect(seen.refused, `${strategy}: the old copy answered with a reset after its lock: ${JSON.stringify(seen)}`).toBe(0);
      }
      where = to;
    }
    await sleep(10_000);
  } finally {
    report = await client.stop();
  }
  expect(report.error, `${report.kind}: ${report.error}`).toBeUndefined();
  expect(report.connections).toBe(s.workload === 'tcp' ? 2 : 1);
  expect(report.verifiedBytes).toBe(report.bytes);
  expect(report.verifiedBytes).toBeGreaterThan((s.minBytesPer10s * (Date.now() - started)) / 10_000 / 4);
  const after = await workload.readState(c.ip);
  expect(after.intact, after.text).toBe(true);
  expect(after.progress).toBeGreaterThan(before.progress);
}
