// The paper's experiments end to end on the TCG corridor testbed (three edges and the NFS node):
// plans/smoke.yaml (blank and a short video, all three strategies, one
// repetition, gigabit) through `followme experiment`, killed with SIGKILL
// after its first run and resumed with the same command, then `followme
// report` from the results alone; and a plan that kills each run's migration
// controller, which `recover` settles.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, inject, it } from 'vitest';
import { readInventory } from '../../common/inventory.js';
import { NotYet, poll } from '../../common/poll.js';
import { projectRoot } from '../../common/paths.js';
import { readRuns, RUNS_FILE } from '../../experiment/results.js';
import { readManifest } from '../../experiment/manifest.js';
import { journalDirFor, unfinishedMigrations } from '../../migration/journal.js';
import { scratchDir } from '../scratch.js';
import { followme } from './cli.js';
import { stateOn } from './migration-helpers.js';
import { secondHost } from './libvirt-objects.js';

const inventoryPath = () => inject('corridorInventory');

describe('followme experiment: plans/smoke.yaml on the corridor, killed with SIGKILL after its first run and resumed', () => {
  it('migrates every run once with the service probed before and after, the video connection kept, and reports it', { timeout: 60 * 60_000 }, async () => {
    const out = join(scratchDir('fm-exp-'), 'smoke');
    // The smoke plan at one repetition: its second repeats the first, and CI time is short. About 6 minutes under
    // TCG: 6 migrations, 4 containers deployed and removed.
    const smoke = readFileSync(join(projectRoot(), 'plans/smoke.yaml'), 'utf8');
    const plan = join(scratchDir('fm-exp-plan-'), 'smoke.yaml');
    writeFileSync(plan, smoke.replace(/^repetitions: 2$/m, 'repetitions: 1'));
    expect(readFileSync(plan, 'utf8')).toMatch(/^repetitions: 1$/m);
    const args = [join(projectRoot(), 'dist/cli/main.js'), 'experiment', '--plan', plan, '--inventory', inventoryPath(), '--out', out];
    // Killed with SIGKILL as soon as its first run is on disk (the runner is then on to the next one), then resumed
    // with the same command: it must finish without redoing or duplicating what it had finished.
    const first = execa('node', args, { reject: false, timeout: 30 * 60_000 });
    const runsFile = join(out, RUNS_FILE);
    await poll(
      async () => {
        if (!existsSync(runsFile) || readFileSync(runsFile, 'utf8').split('\n').length < 2) throw new NotYet('no run yet');
      },
      { timeoutMs: 20 * 60_000, intervalMs: 100 },
    );
    first.kill('SIGKILL');
    expect((await first).signal).toBe('SIGKILL');
    const firstLines = readFileSync(runsFile, 'utf8')
      .split('\n')
      .filter((l) => l.endsWith('}'));
    expect(firstLines.length).toBeGreaterThanOrEqual(1);
    // The killed runner's migration, if one was under way, is settled by the resumed one's recover.
    const r = await followme(['experiment', '--plan', plan, '--inventory', inventoryPath(), '--out', out], {
      timeoutMs: 45 * 60_000,
    });
    expect(r.exitCode, r.stderr.slice(-3000)).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`resuming: ${firstLines.length} of 6 runs`));
    // The runs finished before the kill are there as they were written: not redone.
    expect(readFileSync(runsFile, 'utf8').startsWith(firstLines.map((l) => `${l}\n`).join(''))).toBe(true);

    // runs.jsonl passes its schema (readRuns checks every line), one run per planned key.
    const { runs, tornTail } = readRuns(out);
    expect(tornTail).toBe(false);
    expect(runs).toHaveLength(6);
    expect(new Set(runs.map((x) => x.key)).size).toBe(6);
    for (const run of runs) {
      expect(run.outcome, `${run.key}: ${run.error ?? ''}`).toBe('migrated');
      expect(run.state.problem, run.key).toBeUndefined();
      // The probe saw the service before the move and after it; the longest silence is the service downtime.
      expect(run.probe.answeredBefore, run.key).toBeGreaterThan(0);
      expect(run.probe.answeredAfter, run.key).toBeGreaterThanOrEqual(20);
      expect(run.serviceDowntimeMs, run.key).toBeGreaterThan(0);
      expect(run.serviceDowntimeMs!).toBeLessThan(run.migration!.totalMs);
      expect(run.migration!.downtimeMs).toBeGreaterThan(0);
      // Downtime from the freeze: inside the final-dump phase, after its start.
      const finalDump = run.migration!.phases.find((p) => p.kind === 'final-dump')!;
      expect(run.migration!.freezeAtMs!).toBeGreaterThanOrEqual(finalDump.startMs);
      expect(run.migration!.freezeAtMs!).toBeLessThan(finalDump.startMs + finalDump.durationMs);
      if (run.workload === 'video') {
        // One connection for the whole run: it survived the move (CRIU --tcp-established).
        expect(run.client?.error, run.key).toBeUndefined();
        expect(run.client?.connections, run.key).toBe(1);
        expect(run.client!.bytes).toBeGreaterThan(0);
      }
    }
    // Each container alternates: edge-a → edge-b, then back.
    const blankLocal = runs.filter((x) => x.container === 'blank');
    expect(blankLocal.map((x) => x.from)).toEqual(['edge-a', 'edge-b']);
    const manifest = readManifest(out)!;
    expect(manifest.plan.name).toBe('smoke');
    expect(Object.values(manifest.nodes).every((n) => n.accelerator === 'TCG' || n.accelerator === 'KVM')).toBe(true);
    expect(Object.values(manifest.nodes)[0]!.imageRecipe).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.profiles['gigabit']!.measured!.throughputMbit).toBeGreaterThan(0);
    // Across two hosts (npm test's sandbox) the path measured is the one across the VXLAN, and each node says its host.
    if (secondHost()) {
      expect([...manifest.profiles['gigabit']!.measured!.between].sort()).toEqual(['edge-a', 'edge-b']);
      expect(manifest.nodes['edge-a']!.libvirtHost).toBe('local');
      expect(manifest.nodes['edge-b']!.libvirtHost).toBe(`root@${secondHost()!.underlay[1]}`);
    }
    // The containers are gone when their runs are done.
    const inv = readInventory(inventoryPath());
    for (const node of ['edge-a', 'edge-b'])
      for (const name of ['blank', 'blank-nfs', 'video', 'video-nfs']) expect(await stateOn(inv, node, name)).toBeUndefined();

    const rep = await followme(['report', out, '--out', join(out, 'report')]);
    expect(rep.exitCode, rep.stderr).toBe(0);
    const md = readFileSync(join(out, 'report/report.md'), 'utf8');
    expect(md).toContain('Table II: pages copied during the last dump');
    expect(md).toMatch(/\| blank, diskless \| 1 \|/);
    for (const chart of [
      'phases-tmpfs-gigabit.svg',
      'phases-diskless-gigabit.svg',
      'phases-shared-gigabit.svg',
      'total-time-gigabit.svg',
      'downtime-gigabit.svg',
      'final-iteration-gigabit.svg',
    ]) {
      expect(readFileSync(join(out, 'report', chart), 'utf8')).toMatch(/^<svg/);
      expect(md).toContain(`](${chart})`);
    }
    const csv = readFileSync(join(out, 'report/runs.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(1 + 6);
    expect(readFileSync(join(out, 'report/report.html'), 'utf8')).toContain('<svg');
  });
});

describe('an experiment with the fault controller-killed: each run dies in its phase and `recover` settles it', () => {
  it('records how the controller died and what recover did, the container once with its count going on, and reports it', async () => {
    const dir = scratchDir('fm-killed-');
    const plan = join(dir, 'killed.yaml');
    writeFileSync(
      plan,
      [
        'planVersion: 1',
        'name: killed',
        'repetitions: 1',
        'predumps: 0',
        'strategies: [tmpfs]',
        'workloads: [{ name: blank }]',
        'profiles: [gigabit]',
        // After the final dump the source copy is stopped: recover must restore it from those images.
        'fault: { kind: controller-killed, phase: final copy }',
        '',
      ].join('\n'),
    );
    const out = join(dir, 'out');
    const r = await followme(['experiment', '--plan', plan, '--inventory', inventoryPath(), '--out', out], { timeoutMs: 15 * 60_000 });
    expect(r.exitCode, r.stderr.slice(-3000)).toBe(0);
    const { runs } = readRuns(out);
    expect(runs).toHaveLength(1);
    const [run] = runs;
    expect(run!.migration).toBeUndefined();
    expect(run!.controllerKilled, JSON.stringify(run)).toMatchObject({
      phase: 'final copy',
      ended: 'killed with SIGKILL 0 ms into "final copy"',
      step: 'final copy',
      pointOfNoReturnPassed: false,
      recovery: { settled: true, runningOn: run!.from },
    });
    expect(run!.controllerKilled!.recovery.did.join('\n')).toMatch(/restor/);
    expect(run!.outcome).toBe('rolled-back');
    // The count went on from the final dump's memory: not restarted, not lost.
    expect(run!.state.problem, run!.state.after).toBeUndefined();
    expect(run!.probe.answeredAfter).toBeGreaterThanOrEqual(20);
    expect(r.stderr).toMatch(/controller killed with SIGKILL 0 ms into "final copy"; recover left it on edge-[ab] in [0-9.]+ s/);
    // Nothing left for recover on the controller.
    const inv = readInventory(inventoryPath());
    expect(unfinishedMigrations(journalDirFor(inv.prefix))).toEqual([]);

    const rep = await followme(['report', out, '--out', join(out, 'report')]);
    expect(rep.exitCode, rep.stderr).toBe(0);
    expect(readFileSync(join(out, 'report/report.md'), 'utf8')).toContain('gigabit/blank/tmpfs/1: rolled-back');
  });
});
