// The trip runner's decisions, position by position, with migrations that
// only take time (the engine's are tested elsewhere) and a probe that
// answers every 5 ms: windows and handovers written as they end, the
// user's delay set at each border, reactive's hysteresis in real time, a
// move aborted when the user turns back (the engine's rollback outcome
// recorded as `aborted`), and a move whose rollback failed stopping the trip.
import { describe, expect, it } from 'vitest';
import type { Cell } from '../../common/road-cells.js';
import type { Probe } from '../../experiment/probe.js';
import { MigrationFailedError, type MigrateOptions } from '../../migration/engine/migrate.js';
import type { MigrationRecord } from '../../migration/record/schema.js';
import { HANDOVER_POLICIES } from '../../mobility/policies/registry.js';
import { TripFollower } from '../../mobility/trip-follower.js';
import { readTrips, TRIP_FILE } from '../../mobility/trip-results.js';
import type { TripPoint } from '../../mobility/trip.js';
import { record } from './fixtures-record.js';
import { scratchDir } from '../scratch.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const cells: Cell[] = [
  { edge: 'edge-a', x: 0, y: 0, radiusM: 600 },
  { edge: 'edge-b', x: 1000, y: 0, radiusM: 600 },
  { edge: 'edge-c', x: 2000, y: 0, radiusM: 600 },
];
const reactive = HANDOVER_POLICIES.find((p) => p.name === 'reactive')!;

/** A probe answering every 5 ms (5 ms each), until stopped. */
function answeringProbe(): Probe & { halt(): void } {
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const atMs: number[] = [];
  const latencyMs: number[] = [];
  const timer = setInterval(() => {
    atMs.push(now());
    latencyMs.push(5);
  }, 5);
  return {
    now,
    answered: () => ({ atMs, latencyMs }),
    sentBetween: (a, b) => atMs.filter((x) => x >= a && x <= b).length,
    mark: () => {},
    markAt: () => {},
    marks: () => ({}),
    answersAfter: async () => true,
    stop: async () => {
      throw new Error('not used');
    },
    halt: () => clearInterval(timer),
  };
}

/** A migrate that takes `ms` (or until aborted: then the engine's rollback), then answers as `outcome` says. */
function timedMigrate(ms: number, outcome: 'migrated' | 'failed' = 'migrated') {
  const calls: string[] = [];
  const fn = (o: MigrateOptions): Promise<MigrationRecord> => {
    calls.push(`${o.from}→${o.to}`);
    return new Promise((resolve, reject) => {
      const rec = (over: Partial<MigrationRecord>) => record({ strategy: 'sharedlean', container: 'video', from: o.from, to: o.to, ...over });
      const rollBack = () =>
        reject(
          new MigrationFailedError(
            'aborted',
            rec({ outcome: 'rolled-back', error: { phase: 'pre-dump 1', message: 'aborted by its caller', rollback: 'restored' } }),
          ),
        );
      const timer = setTimeout(() => {
        if (outcome === 'failed')
          reject(
            new MigrationFailedError(
              'boom',
              rec({ outcome: 'failed', error: { phase: 'restore', message: 'boom', rollback: 'the restore on the source failed' } }),
            ),
          );
        else resolve(rec({}));
      }, ms);
      o.signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        rollBack();
      });
    });
  };
  return { fn: fn as unknown as typeof import('../../migration/engine/migrate.js').migrate, calls };
}

async function follow(points: TripPoint[], migrate: ReturnType<typeof timedMigrate>, speedup = 50) {
  const out = scratchDir('followme-follower-');
  const probe = answeringProbe();
  const delays: (string | undefined)[] = [];
  const f = new TripFollower({
    inventory: { prefix: 'fmroad' } as never,
    policy: reactive,
    strategy: 'sharedlean',
    container: 'video',
    predumps: 1,
    speedup,
    cells,
    points,
    startEdge: 'edge-a',
    migrationWallS: 0.1,
    probe,
    setDelays: async (cell) => {
      delays.push(cell);
    },
    rttFor: (user, edge) =>
      user === undefined ? undefined : 4 + 8 * Math.abs(cells.findIndex((c) => c.edge === user) - cells.findIndex((c) => c.edge === edge)),
    base: { key: 'drive/reactive/sharedlean/1', attempt: 'a1b2c3d4e5f6' },
    out,
    log: () => {},
    migrate: migrate.fn,
  });
  try {
    await f.run();
  } finally {
    probe.halt();
  }
  return { f, out, delays };
}

/** 1 Hz positions along x. */
const drive = (xs: number[]): TripPoint[] => xs.map((x, t) => ({ t, x, y: 0 }));

describe('a trip followed position by position', () => {
  it('reactive along the road: a move after each border plus the hysteresis, a window per position, the delay set at each border', async () => {
    // 20 m/s from 0 to 2000 m: into edge-b's cell at 26 s (520 m; 500 m is a tie, and the first cell has it), edge-c's at 76 s.
    const m = timedMigrate(60); // 3 trip seconds at ×50
    const { f, out, delays } = await follow(drive(Array.from({ length: 101 }, (_, t) => 20 * t)), m);
    expect(m.calls).toEqual(['edge-a→edge-b', 'edge-b→edge-c']);
    expect(f.handovers.map((h) => [h.from, h.to, h.startT, h.outcome])).toEqual([
      ['edge-a', 'edge-b', 29, 'migrated'],
      ['edge-b', 'edge-c', 79, 'migrated'],
    ]);
    for (const h of f.handovers) expect(h.endT).toBeGreaterThanOrEqual(h.startT + 2);
    expect(f.serviceEdge).toBe('edge-c');
    expect(delays).toEqual(['edge-b', 'edge-c']);
    // trip.jsonl has every window and both handovers (no trip record: runTrip writes that).
    const lines = readFileSync(join(out, TRIP_FILE), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; t0: number; userCell: string; serviceEdge: string; rttMs: number });
    const windows = lines.filter((l) => l.kind === 'window');
    expect(windows).toHaveLength(100);
    expect(lines.filter((l) => l.kind === 'handover')).toHaveLength(2);
    // In the user's new cell before the move ends: one hop away (12 ms); after it, 4 ms.
    expect(windows.find((w) => w.t0 === 26)).toMatchObject({ userCell: 'edge-b', serviceEdge: 'edge-a', rttMs: 12 });
    expect(windows.find((w) => w.t0 === 40)).toMatchObject({ userCell: 'edge-b', serviceEdge: 'edge-b', rttMs: 4 });
    expect(readTrips(out, { flag: 'dir' }).leftOut).toHaveLength(1); // cut short: no trip record
  });

  it('a user who turns back while the move runs: the move is aborted and rolled back, the service stays', async () => {
    // Into edge-b's cell at 26 s, back into edge-a's at 33 s; the move (started at 29 s) would take 20 trip seconds.
    const xs = [...Array.from({ length: 31 }, (_, t) => 20 * t), 560, 520, 480, 440, ...Array.from({ length: 10 }, () => 400)];
    const m = timedMigrate(400);
    const { f } = await follow(drive(xs), m);
    expect(m.calls).toEqual(['edge-a→edge-b']);
    expect(f.handovers).toHaveLength(1);
    expect(f.handovers[0]).toMatchObject({ from: 'edge-a', to: 'edge-b', startT: 29, outcome: 'aborted', overrun: 'abort' });
    expect(f.handovers[0]!.migration?.outcome).toBe('rolled-back');
    expect(f.serviceEdge).toBe('edge-a');
    expect(f.failure).toBeUndefined();
  });

  it('a move whose rollback did not settle stops the trip, and says so', async () => {
    const m = timedMigrate(20, 'failed');
    const { f, out } = await follow(drive(Array.from({ length: 101 }, (_, t) => 20 * t)), m);
    expect(f.handovers.map((h) => h.outcome)).toEqual(['failed']);
    expect(f.failure).toMatch(/^the move edge-a → edge-b at 29\.0 s failed and its rollback did not settle: boom/);
    // It stopped there: no window past the move's end.
    const last = readFileSync(join(out, TRIP_FILE), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { t1?: number })
      .at(-2)!;
    expect(last.t1).toBeLessThan(40);
    expect(existsSync(out)).toBe(true);
  });
});
