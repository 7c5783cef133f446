// runs.jsonl: each line a checked run record, appended durably; a torn last
// line (a runner killed while writing) is reported and cut, never parsed.
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendRun, dropTornTail, readResults, readRuns, type RunRecord, timelinePath, validateRun } from '../../experiment/results.js';
import { parseMemoryState } from '../../workloads/memory.js';
import { stateProblem } from '../../workloads/types.js';
import { scratchDir } from '../scratch.js';
import { record } from './fixtures-record.js';

function run(over: Partial<RunRecord> = {}): RunRecord {
  const key = over.key ?? 'gigabit/blank/tmpfs/1';
  return {
    runVersion: 1,
    key,
    index: 1,
    experiment: 'smoke',
    profile: 'gigabit',
    workload: 'blank',
    strategy: 'tmpfs',
    repetition: 1,
    container: 'blank',
    from: 'edge-a',
    to: 'edge-b',
    startedAt: '2026-11-27T01:00:00.000Z',
    endedAt: '2026-11-27T01:01:00.000Z',
    outcome: 'migrated',
    migration: record({ freezeAtMs: 9800, downtimeMs: 5200 }),
    serviceDowntimeMs: 5600,
    probe: {
      intervalMs: 10,
      timeoutMs: 1000,
      sent: 3000,
      answered: 2400,
      longestGapMs: 5600,
      gapFromMs: 12_000,
      gapToMs: 17_600,
      skipped: 0,
      marks: { migrate: 1000, migrated: 19_000 },
      answeredBefore: 100,
      answeredAfter: 20,
      ranMs: 25_000,
    },
    state: { before: 'count 100', after: 'count 400' },
    timeline: timelinePath(key),
    ...over,
  };
}

describe('runs.jsonl', () => {
  it('appends runs with their timelines and reads them back, checked', () => {
    const d = scratchDir('fm-runs-');
    appendRun(d, run(), { sentMs: [0, 10], latencyMs: [2, -1] });
    appendRun(d, run({ key: 'gigabit/blank/diskless/1', index: 2, strategy: 'diskless', timeline: timelinePath('gigabit/blank/diskless/1') }), {
      sentMs: [],
      latencyMs: [],
    });
    const { runs, tornTail } = readRuns(d);
    expect(tornTail).toBe(false);
    expect(runs.map((r) => r.key)).toEqual(['gigabit/blank/tmpfs/1', 'gigabit/blank/diskless/1']);
    expect(JSON.parse(readFileSync(join(d, 'timelines/gigabit_blank_tmpfs_1.json'), 'utf8'))).toEqual({ sentMs: [0, 10], latencyMs: [2, -1] });
  });

  it('a torn last line is left out and reported; cutting it lets the next run start a line of its own', () => {
    const d = scratchDir('fm-runs-');
    appendRun(d, run(), { sentMs: [], latencyMs: [] });
    appendFileSync(join(d, 'runs.jsonl'), '{"runVersion":1,"key":"gigabit/bl');
    const torn = readResults(d, { flag: 'out', keep: (r) => r });
    expect(torn).toMatchObject({ tornTail: true, runs: [{ key: 'gigabit/blank/tmpfs/1' }] });
    dropTornTail(d, torn.wholeBytes);
    appendRun(d, run({ key: 'gigabit/blank/tmpfs/2', repetition: 2, timeline: timelinePath('gigabit/blank/tmpfs/2') }), { sentMs: [], latencyMs: [] });
    const again = readRuns(d);
    expect(again.tornTail).toBe(false);
    expect(again.runs.map((r) => r.key)).toEqual(['gigabit/blank/tmpfs/1', 'gigabit/blank/tmpfs/2']);
  });

  it('refuses a record that contradicts its migration, or is not a run at all', () => {
    expect(() => validateRun(run({ outcome: 'rolled-back' }), 'x')).toThrow(/outcome rolled-back but the migration's is migrated/);
    expect(() => validateRun({ ...run(), strategy: 'teleport' }, 'x')).toThrow(/run\.strategy/);
    expect(() => validateRun(run({ migration: record({ freezeAtMs: 100, downtimeMs: 5200 }) }), 'x')).toThrow(/freeze at 100.0 ms plus the downtime/);
  });

  it('a run whose controller was killed: no migration record, and recover must have left the container where its outcome says', () => {
    const killed = {
      phase: 'final copy',
      pid: 4242,
      ended: 'killed with SIGKILL 0 ms into "final copy"',
      migrationId: 'tmpfs-blank-1',
      step: 'final copy',
      pointOfNoReturnPassed: false,
      recovery: {
        found: ['the source copy is stopped'],
        did: ['restored blank on edge-a from the final dump'],
        runningOn: 'edge-a',
        settled: true,
        ms: 41_000,
      },
    };
    const { migration: _m, serviceDowntimeMs: _s, ...withoutMigration } = run();
    const recovered = { ...withoutMigration, outcome: 'rolled-back' as const, controllerKilled: killed };
    expect(validateRun(recovered, 'x').controllerKilled?.recovery.runningOn).toBe('edge-a');
    expect(() => validateRun({ ...recovered, outcome: 'migrated' }, 'x')).toThrow(/outcome migrated but recover left the container on edge-a, not edge-b/);
    expect(() => validateRun({ ...recovered, migration: record() }, 'x')).toThrow(/either the migration record or controllerKilled/);
    const unsettled = { ...killed, recovery: { ...killed.recovery, runningOn: undefined, settled: false, problem: 'edge-b unreachable' } };
    expect(validateRun(JSON.parse(JSON.stringify({ ...recovered, outcome: 'failed', controllerKilled: unsettled })), 'x').outcome).toBe('failed');
    expect(() => validateRun({ ...recovered, controllerKilled: { ...killed, step: undefined } }, 'x')).toThrow(/controllerKilled/);
  });
});

describe("the workloads' state checks", () => {
  it("reads the memory workload's state and sees a checksum that no longer matches", () => {
    const ok = parseMemoryState('120 30720 2379264 2379264 1\n');
    expect(ok).toMatchObject({ progress: 120, intact: true });
    const torn = parseMemoryState('180 46080 2379264 2379001 0\n');
    expect(torn.intact).toBe(false);
    expect(stateProblem(ok, torn)).toMatch(/memory check failed/);
    expect(() => parseMemoryState('garbage')).toThrow(/not "ticks dirtied expected in_memory ok"/);
  });

  it('a counter that went back means the service restarted', () => {
    expect(stateProblem({ progress: 500, intact: true, text: 'count 500' }, { progress: 3, intact: true, text: 'count 3' })).toMatch(/restarted/);
    expect(stateProblem({ progress: 500, intact: true, text: '' }, { progress: 530, intact: true, text: '' })).toBeUndefined();
  });
});
