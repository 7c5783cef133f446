// Trip plans and trip results: the shipped plans are sound, a bad plan is
// refused naming its key, each policy is paired with the strategies on its
// storage; trip.jsonl is read back checked, with a trip cut short left out;
// the unanswered time of a probe window; and the report of a trip run from
// hand-made records (its table's numbers, its timeline, what it states).
import { readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../common/errors.js';
import { projectRoot } from '../../common/paths.js';
import { MANIFEST_FILE } from '../../experiment/manifest.js';
import { unansweredIn } from '../../mobility/trip-follower.js';
import { buildTripReport, tripOutcome } from '../../mobility/trip-report.js';
import { plannedTrips, readTripPlan, resolveTripPlan, traceNameOf, type TripPlan } from '../../mobility/trip-plan.js';
import { readTripManifest, type TripManifest, writeTripManifest } from '../../mobility/trip-manifest.js';
import { appendTripLine, readTrips, TRIP_FILE, type HandoverRecord, type TripRecord, type WindowRecord } from '../../mobility/trip-results.js';
import { scratchDir } from '../scratch.js';

const plansDir = join(projectRoot(), 'plans');

const good = (over: Record<string, unknown> = {}) => ({
  tripPlanVersion: 1,
  name: 'drive',
  traces: [{ file: 'traces/corridor-50kmh.csv' }],
  policies: ['stay', 'reactive', 'predictive'],
  strategies: ['sharedlean', 'lean', 'tmpfs'],
  ...over,
});

const refusal = (doc: unknown, base = plansDir) => {
  try {
    resolveTripPlan(doc, 'plan.yaml', base);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).message;
  }
  throw new Error('accepted');
};

describe('trip plans', () => {
  const tripPlans = readdirSync(plansDir).filter((f) => f.endsWith('.yaml') && /^tripPlanVersion:/m.test(readFileSync(join(plansDir, f), 'utf8')));

  it.each(tripPlans)('plans/%s is valid and its traces are there', (f) => {
    const p = readTripPlan(join(plansDir, f));
    expect(plannedTrips(p).length).toBeGreaterThan(0);
    for (const t of p.traces) expect(readFileSync(t.file, 'utf8')).toMatch(/^t,x,y\n/);
  });

  it('pairs each policy with the strategies on its storage, strategies alternating within a repetition', () => {
    const p = resolveTripPlan(good({ repetitions: 2 }), 'plan.yaml', plansDir);
    expect(plannedTrips(p).map((t) => t.key)).toEqual([
      'corridor-50kmh/stay/none/1',
      'corridor-50kmh/reactive/sharedlean/1',
      'corridor-50kmh/predictive/lean/1',
      'corridor-50kmh/predictive/tmpfs/1',
      'corridor-50kmh/stay/none/2',
      'corridor-50kmh/reactive/sharedlean/2',
      'corridor-50kmh/predictive/lean/2',
      'corridor-50kmh/predictive/tmpfs/2',
    ]);
    expect(p).toMatchObject({ budgetMs: 10, speedup: 1, repetitions: 2, workload: { name: 'video' } });
    expect(p.traces[0]!.file).toBe(join(plansDir, 'traces/corridor-50kmh.csv'));
  });

  it('refuses, naming the key: a policy with no strategy on its storage, a trace outside its directory, two traces of one name, a bad speed-up', () => {
    expect(refusal(good({ strategies: ['lean'] }))).toMatch(
      /plan\.policies\[1\] = reactive moves on shared storage, and plan\.strategies has no such strategy \(lean\)/,
    );
    expect(refusal(good({ traces: [{ file: '../../etc/passwd' }] }))).toMatch(
      /plan\.traces\[0\]\.file: \.\.\/\.\.\/etc\/passwd is outside the plan's directory/,
    );
    expect(refusal(good({ traces: [{ file: '/etc/passwd' }] }))).toMatch(/plan\.traces\[0\]\.file: \/etc\/passwd is outside/);
    expect(refusal(good({ traces: [{ file: 'a/x.csv' }, { file: 'b/x.csv' }] }))).toMatch(/plan\.traces\[1\]: a second trace called "x"/);
    expect(refusal(good({ speedup: 0 }))).toMatch(/plan\.speedup/);
    expect(refusal(good({ policies: ['teleport'] }))).toMatch(/plan\.policies\[0\]/);
    expect(refusal(good({ workload: { name: 'video', params: { durationS: 1 } } }))).toMatch(/plan\.workload\.params/);
  });

  it('names a trace after its file, in the key alphabet', () => {
    expect(traceNameOf('/x/My Trip (2).fcd.xml')).toBe('my-trip-2-fcd');
    expect(traceNameOf('2024.csv')).toBe('trace-2024');
  });
});

describe('the unanswered time of a probe window', () => {
  it('counts stretches of 250 ms or more without an answer, clipped to the window, an open one as long as it is so far', () => {
    const answers = [100, 110, 120, 1000, 1010];
    // 120 → 1000 is 880 ms without an answer; within [0, 2000] it counts whole, and 1010 → 2000 (still open) too.
    expect(unansweredIn(answers, 0, 2000)).toBeCloseTo(880 + 990);
    // Only the part inside the window.
    expect(unansweredIn(answers, 500, 1005)).toBeCloseTo(500);
    // Short gaps are not unavailability.
    expect(unansweredIn([10, 20, 30, 40], 0, 50)).toBe(0);
    // Nothing answered at all.
    expect(unansweredIn([], 0, 1000)).toBe(1000);
  });
});

const attempt = 'a1b2c3d4e5f6';
const key = 'drive/predictive/lean/1';

function windowsOf(k: string, cells: (string | null)[], service: string[], rtt: (number | null)[], unavailable: number[] = []): WindowRecord[] {
  return cells.map((c, i) => ({
    kind: 'window',
    key: k,
    attempt,
    t0: i * 10,
    t1: (i + 1) * 10,
    x: (i + 1) * 100,
    y: 0,
    userCell: c,
    serviceEdge: service[i]!,
    migrating: false,
    rttMs: rtt[i]!,
    unavailableMs: unavailable[i] ?? 0,
    sent: 1000,
    answered: 990,
    medianAnswerMs: 9,
  }));
}

function tripRecord(k: string, policy: string, strategy: string): TripRecord {
  return {
    kind: 'trip',
    key: k,
    attempt,
    index: 1,
    plan: 'drive',
    trace: 'drive',
    policy,
    strategy,
    repetition: 1,
    container: 'video',
    startEdge: 'edge-a',
    endEdge: 'edge-b',
    startedAt: '2026-12-07T10:00:00.000Z',
    endedAt: '2026-12-07T10:01:00.000Z',
    durationS: 40,
    speedup: 1,
    budgetMs: 10,
    latency: { name: 'urban-5g', radioMs: 4, perHopMs: 8 },
    outcome: 'completed',
    state: { before: '100', after: '160' },
  };
}

const handover: HandoverRecord = {
  kind: 'handover',
  key,
  attempt,
  from: 'edge-a',
  to: 'edge-b',
  why: 'border ahead',
  startT: 5,
  endT: 12,
  outcome: 'migrated',
  serviceDowntimeMs: 3000,
};

function manifest(plan: TripPlan): TripManifest {
  const facts = {
    role: 'edge',
    kernel: '6.12',
    criu: '4.1',
    lxc: '6.0',
    virtualization: 'qemu',
    accelerator: 'TCG' as const,
    cpuModel: 'x',
    cores: 1,
    memoryMiB: 1536,
    imageRecipe: 'r',
  };
  return {
    tripManifestVersion: 1,
    createdAt: '2026-12-07T10:00:00.000Z',
    plan,
    planFile: '/plans/drive.yaml',
    testbed: { prefix: 'fmroad', stack: 'corridor', subnet: '10.77.30.0/24', nodes: [{ name: 'edge-a', role: 'edge', ip: '10.77.30.10' }], nfs: true },
    controller: { kernel: '6', cpuModel: 'x', cores: 2, qemu: 'q', libvirt: 'l', node: 'v20' },
    nodes: { 'edge-a': facts, 'edge-b': facts },
    followme: { version: '0.1.0', commit: 'abc' },
    road: {
      cells: [
        { edge: 'edge-a', x: 0, y: 0, radiusM: 600 },
        { edge: 'edge-b', x: 1000, y: 0, radiusM: 600 },
      ],
      latency: { name: 'urban-5g', radioMs: 4, perHopMs: 8 },
    },
    traces: { drive: { file: '/plans/drive.csv', sha256: 'f'.repeat(64), format: 'csv', vehicle: '1', points: 5, durationS: 40, lengthM: 400 } },
  };
}

function tripDir(): { dir: string; plan: TripPlan } {
  const dir = scratchDir('followme-trips-');
  const plan = resolveTripPlan(good({ traces: [{ file: '/plans/drive.csv', name: 'drive' }], strategies: ['sharedlean', 'lean'] }), 'p', '/', {
    tracesAnywhere: true,
  });
  writeTripManifest(dir, manifest(plan));
  // stay: the user moves into edge-b's cell at 20 s, the service stays on edge-a (one hop: 12 ms).
  for (const w of windowsOf('drive/stay/none/1', ['edge-a', 'edge-a', 'edge-b', 'edge-b'], ['edge-a', 'edge-a', 'edge-a', 'edge-a'], [4, 4, 12, 12]))
    appendTripLine(dir, w);
  appendTripLine(dir, tripRecord('drive/stay/none/1', 'stay', 'none'));
  // predictive, a first attempt cut short (no trip record), then a whole one.
  appendTripLine(dir, { ...windowsOf(key, ['edge-a'], ['edge-a'], [4])[0]!, attempt: 'ffffffffffff' });
  for (const w of windowsOf(key, ['edge-a', 'edge-a', 'edge-b', 'edge-b'], ['edge-a', 'edge-b', 'edge-b', 'edge-b'], [4, 12, 4, 4], [0, 3000]))
    appendTripLine(dir, w);
  appendTripLine(dir, handover);
  appendTripLine(dir, tripRecord(key, 'predictive', 'lean'));
  return { dir, plan };
}

describe('trip results', () => {
  it('reads each finished trip with its windows and handovers, and leaves out an attempt cut short', () => {
    const { dir } = tripDir();
    const r = readTrips(dir, { flag: 'dir' });
    expect(r.trips.map((t) => [t.trip.key, t.windows.length, t.handovers.length])).toEqual([
      ['drive/stay/none/1', 4, 0],
      [key, 4, 1],
    ]);
    expect(r.leftOut).toEqual([{ key, attempt: 'ffffffffffff', why: 'cut short' }]);
  });

  it('refuses a line that is not a trip record, naming the line', () => {
    const { dir } = tripDir();
    writeFileSync(join(dir, TRIP_FILE), `${readFileSync(join(dir, TRIP_FILE), 'utf8')}{"kind":"window","key":"../../x"}\n`);
    expect(() => readTrips(dir, { flag: 'dir' })).toThrow(/trip\.jsonl:13: not a trip record/);
  });

  it('the manifest reads back to the same plan', () => {
    const { dir, plan } = tripDir();
    expect(readTripManifest(dir)!.plan).toEqual(plan);
  });

  it('what the driver experienced: the predictive trip is within the budget longer than stay, its outage counted', () => {
    const { dir } = tripDir();
    const [stay, predictive] = readTrips(dir, { flag: 'dir' }).trips;
    const s = tripOutcome(stay!);
    const p = tripOutcome(predictive!);
    expect(s).toMatchObject({ handovers: 0, totalUnavailableS: 0, withinBudget: 0.5 });
    // 3 s unanswered in the second window (at 12 ms): 30 of 40 s within the budget.
    expect(p).toMatchObject({ handovers: 1, totalUnavailableS: 3, longestUnavailableS: 3, withinBudget: 0.75 });
    expect(p.withinBudget).toBeGreaterThan(s.withinBudget);
  });
});

describe('the trip report', () => {
  it('has the policy table, the timeline chart and the emulation stated', async () => {
    const { dir } = tripDir();
    const out = join(dir, 'report');
    const r = await buildTripReport(dir, out);
    expect(r.trips).toBe(2);
    expect(r.files.sort()).toEqual(['report.html', 'report.md', 'summary.json', 'timeline-1.svg', 'trips.csv']);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('| drive | stay | 0 | 0.0 | 0.0 | 8.0 | 12.0 | 50.0% |');
    expect(md).toContain('| drive | predictive (lean) | 1 | 3.0 | 3.0 |');
    expect(md).toMatch(/The user's round trip is an emulation, not a radio measurement: profile urban-5g, 4 ms radio plus 8 ms per backhaul hop/);
    expect(md).toMatch(/Trips replayed at ×1 /);
    expect(md).toMatch(/trip drive\/predictive\/lean\/1 attempt ffffffffffff: cut short, ignored/);
    const svg = readFileSync(join(out, 'timeline-1.svg'), 'utf8');
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('the edge running the service');
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'))).toHaveLength(2);
  });

  it('refuses a results directory whose manifest is not a trip run', async () => {
    const { dir } = tripDir();
    writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify({ tripManifestVersion: 1, plan: {} }));
    await expect(buildTripReport(dir, join(dir, 'r'))).rejects.toThrow(/not a manifest of a followme trip run/);
  });

  it('writes nothing through a link in its output directory', async () => {
    const { dir } = tripDir();
    const out = join(dir, 'report');
    await buildTripReport(dir, out);
    const target = join(dir, 'elsewhere.txt');
    writeFileSync(target, 'untouched');
    symlinkSync(target, join(out, 'summary.json.link'));
    rmSync(join(out, 'summary.json'));
    renameSync(join(out, 'summary.json.link'), join(out, 'summary.json'));
    await buildTripReport(dir, out);
    expect(readFileSync(target, 'utf8')).toBe('untouched');
  });
});
