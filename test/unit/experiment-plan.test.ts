// Experiment plans: the shipped ones are sound; a bad plan exits 2 naming
// its key before any node is asked anything (the nodes are an SSH server on
// loopback that records what it receives).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { projectRoot } from '../../common/paths.js';
import { plannedRuns, readPlan, resolvePlan } from '../../experiment/plan.js';
import { cli, STACK_TRACE } from '../cli-run.js';
import { clientKey, loopbackInventory, type RecordingSshServer, startRecordingSshServer, writeJson } from '../harness/recording-ssh-server.js';
import { scratchDir } from '../scratch.js';

let server: RecordingSshServer;
let dir: string;
let key: { privateKeyPath: string; publicKey: string };
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'followme-plan-'));
  key = clientKey(dir);
  server = await startRecordingSshServer(key.publicKey);
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const good = () => ({
  planVersion: 1,
  name: 'small',
  repetitions: 2,
  strategies: ['tmpfs', 'diskless'],
  workloads: [{ name: 'blank' }, { name: 'video', params: { durationS: 30 } }],
  profiles: ['gigabit'],
});

describe('the shipped plans', () => {
  // Trip plans (tripPlanVersion, for `follow`) are checked in trip-plans.test.ts.
  const experimentPlans = readdirSync(join(projectRoot(), 'plans')).filter(
    (f) => f.endsWith('.yaml') && !/^tripPlanVersion:/m.test(readFileSync(join(projectRoot(), 'plans', f), 'utf8')),
  );
  it.each(experimentPlans)('plans/%s is valid', (f) => {
    const p = readPlan(join(projectRoot(), 'plans', f));
    expect(plannedRuns(p).length).toBe(p.profiles.length * p.workloads.length * p.strategies.length * p.repetitions);
  });

  it("paper.yaml is the paper's matrix: blank and the 442 s video, three strategies, ten repetitions, two pre-dumps, 1 Gbit/s", () => {
    const p = readPlan(join(projectRoot(), 'plans', 'paper.yaml'));
    expect(p.repetitions).toBe(10);
    expect(p.predumps).toBe(2);
    expect(p.strategies).toEqual(['tmpfs', 'diskless', 'shared']);
    expect(p.workloads.map((w) => w.name)).toEqual(['blank', 'video']);
    expect(p.workloads[1]!.params).toMatchObject({ durationS: 442, bitrateKbps: 1560, height: 720 });
    expect(p.profiles).toEqual([{ name: 'gigabit', rateMbit: 1000 }]);
  });
});

describe('resolving a plan', () => {
  it('fills defaults: ten repetitions, two pre-dumps, a 10 ms probe, the workload defaults', () => {
    const { repetitions: _r, ...rest } = good();
    const p = resolvePlan(rest);
    expect(p.repetitions).toBe(10);
    expect(p.predumps).toBe(2);
    expect(p.probe).toEqual({ intervalMs: 10, timeoutMs: 1000 });
    expect(p.workloads[1]!.params).toEqual({ durationS: 30, bitrateKbps: 1560, height: 720, playerBufferS: 4, client: 'segments' });
  });

  it('orders runs by profile, workload, repetition, then strategy; keys are unique', () => {
    const runs = plannedRuns(resolvePlan(good()));
    expect(runs.map((r) => r.key)).toEqual([
      'gigabit/blank/tmpfs/1',
      'gigabit/blank/diskless/1',
      'gigabit/blank/tmpfs/2',
      'gigabit/blank/diskless/2',
      'gigabit/video/tmpfs/1',
      'gigabit/video/diskless/1',
      'gigabit/video/tmpfs/2',
      'gigabit/video/diskless/2',
    ]);
    expect(runs.map((r) => r.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('takes the controller killed in any phase of every strategy, source cleanup included', () => {
    for (const phase of ['rootfs copy', 'pre-dump 2', 'final dump', 'final copy', 'restore', 'source cleanup']) {
      const p = resolvePlan({ ...good(), fault: { kind: 'controller-killed', phase, afterMs: 200 } });
      expect(p.fault).toEqual({ kind: 'controller-killed', phase, afterMs: 200 });
    }
    expect(() => resolvePlan({ ...good(), fault: { kind: 'controller-killed', phase: 'pre-dump 3' } })).toThrow(/plan\.fault\.phase: "pre-dump 3" is no phase/);
  });

  it('takes a profile of its own beside the built-in ones', () => {
    const p = resolvePlan({ ...good(), profiles: ['fast-ethernet', { name: 'wan', rateMbit: 20, delayMs: 40, lossPercent: 1, seed: 7 }] });
    expect(p.profiles.map((x) => x.name)).toEqual(['fast-ethernet', 'wan']);
  });
});

describe('a bad plan exits 2 naming the key; nothing reaches a node', () => {
  it.each([
    ['an unknown strategy', { strategies: ['tmpfs', 'teleport'] }, /plan\.strategies\[1\]/],
    ['no strategies', { strategies: [] }, /plan\.strategies/],
    ['zero repetitions', { repetitions: 0 }, /plan\.repetitions = 0: must be >= 1/],
    ['an unknown workload', { workloads: [{ name: 'redis' }] }, /plan\.workloads\[0\]\.name/],
    ['a workload twice', { workloads: [{ name: 'blank' }, { name: 'blank' }] }, /plan\.workloads\[1\]\.name: "blank" is listed twice/],
    ['a video too short', { workloads: [{ name: 'video', params: { durationS: 2 } }] }, /plan\.workloads\[0\]\.params\.durationS = 2: must be >= 5/],
    ['a parameter the workload does not have', { workloads: [{ name: 'memory', params: { rate: 5 } }] }, /plan\.workloads\[0\]\.params\.rate: unknown key/],
    ['an unknown profile', { profiles: ['lte'] }, /plan\.profiles\[0\] = "lte": no such profile; built in: gigabit, fast-ethernet, cellular-backhaul/],
    ['a profile with a loss over 100%', { profiles: [{ name: 'x', rateMbit: 10, lossPercent: 150 }] }, /plan\.profiles\[0\]\.lossPercent = 150/],
    ['a profile name that is not a token', { profiles: [{ name: 'a b; reboot', rateMbit: 10 }] }, /plan\.profiles\[0\]\.name/],
    ['an unknown key', { repetitons: 3 }, /plan\.repetitons: unknown key/],
    ['a probe every 0 ms', { probe: { intervalMs: 0, timeoutMs: 100 } }, /plan\.probe\.intervalMs = 0/],
    ['an unknown fault', { fault: { kind: 'meteor', phase: 'restore' } }, /plan\.fault\.kind/],
    ['a fault in a phase a strategy lacks', { fault: { kind: 'link-cut', phase: 'pre-dump 3' } }, /plan\.fault\.phase: "pre-dump 3" is no phase of tmpfs/],
    [
      'a page server killed under tmpfs',
      { fault: { kind: 'page-server-killed', phase: 'final dump' } },
      /plan\.fault\.kind: page-server-killed applies only to strategies that stream pages to a page server \(diskless, adaptive, lean, sharedlean\)/,
    ],
  ])('%s', async (_what, over, why) => {
    const d = scratchDir('fm-plan-');
    const plan = join(d, 'plan.yaml');
    writeFileSync(plan, stringify({ ...good(), ...over }));
    const inv = writeJson(d, 'inv.json', loopbackInventory(server, key.privateKeyPath));
    const before = { connections: server.connections, commands: server.commands.length };
    const r = await cli(['experiment', '--plan', plan, '--inventory', inv, '--out', join(d, 'out')]);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(why);
    expect(r.err).not.toMatch(STACK_TRACE);
    expect(server.connections).toBe(before.connections);
    expect(server.commands.length).toBe(before.commands);
    expect(readdirSync(d)).not.toContain('out');
  });

  it('shared on a testbed without an NFS server: exit 2 naming plan.strategies', async () => {
    const d = scratchDir('fm-plan-');
    const plan = join(d, 'plan.yaml');
    writeFileSync(plan, stringify({ ...good(), strategies: ['shared'] }));
    const { nfs: _n, ...noNfs } = loopbackInventory(server, key.privateKeyPath);
    const inv = writeJson(d, 'inv.json', { ...noNfs, nodes: noNfs.nodes.filter((n) => n.role === 'edge') });
    const r = await cli(['experiment', '--plan', plan, '--inventory', inv]);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(/plan\.strategies: shared needs a testbed with an NFS server/);
  });

  it('neither --inventory nor --stack, or both: exit 2', async () => {
    const d = scratchDir('fm-plan-');
    const plan = join(d, 'plan.yaml');
    writeFileSync(plan, stringify(good()));
    expect((await cli(['experiment', '--plan', plan])).err).toMatch(/--inventory or --stack: one is needed/);
    const both = await cli(['experiment', '--plan', plan, '--stack', 'two-vm', '--inventory', join(d, 'x.json')]);
    expect(both.code).toBe(2);
    expect(both.err).toMatch(/give one/);
  });

  it('YAML aliases are refused (a small plan must not expand into a huge one)', async () => {
    const d = scratchDir('fm-plan-');
    const plan = join(d, 'plan.yaml');
    writeFileSync(plan, 'a: &a [x, x]\nb: [*a, *a]\n');
    const r = await cli(['experiment', '--plan', plan, '--stack', 'two-vm']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--plan: .*not valid YAML/);
  });
});
