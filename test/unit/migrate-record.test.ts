// The engine, the strategies and `followme migrate` driven over scripted
// edges: a finished migration always gets its record, whatever happens to
// the statistics read after it or to the listeners that watch it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrateCommand } from '../../cli/commands/migrate.js';
import { EXIT, exitCodeFor } from '../../cli/program.js';
import { unfinishedMigrations } from '../../migration/journal.js';
import { migrate } from '../../migration/engine/migrate.js';
import type { MigrationEvent } from '../../migration/engine/types.js';
import { recordProblems, sealRecord, validateRecord } from '../../migration/record/validate.js';
import { writeJson } from '../harness/recording-ssh-server.js';
import { scratchDir } from '../scratch.js';
import { type ScriptedAnswer, type ScriptedTestbed, scriptedTestbed as testbed } from './scripted-edge.js';

/** tmpfs, c1 from edge-a to edge-b over the scripted testbed. */
const c1ToEdgeB = (tb: ScriptedTestbed) => ({
  inventory: tb.inventory,
  strategy: 'tmpfs',
  container: 'c1',
  from: 'edge-a',
  to: 'edge-b',
  connect: tb.connect,
  journalDir: tb.journalDir,
});

const failStatsRead: ScriptedAnswer = (kind) => (kind === 'read-stats-dump' ? { exitCode: 1, stderr: 'Input/output error' } : undefined);

describe('a finished migration always gets its record', () => {
  it('when reading CRIU stats fails after the restore, the record is written, says what it lacks, and migrate exits 0', async () => {
    const tb = testbed(failStatsRead);
    const dir = scratchDir('fm-scripted-cli-');
    const inventoryPath = writeJson(dir, 'inventory.json', tb.inventory);
    const out = join(dir, 'migrations.jsonl');
    // Resolving is exit 0 (main maps a throw to 1 or 2).
    await migrateCommand(
      { inventory: inventoryPath, strategy: 'tmpfs', container: 'c1', from: 'edge-a', to: 'edge-b', predumps: '1', out },
      { connect: tb.connect, journalDir: tb.journalDir },
    );
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    const r = validateRecord(JSON.parse(lines[0]!));
    expect(r.outcome).toBe('migrated');
    expect(r.missing).toEqual([
      expect.stringMatching(/^CRIU's dump statistics \(pages, freeze times\): reading them on edge-a failed: edge-a: read-stats-dump exited with 1/),
    ]);
    expect(r.iterations).toEqual([]);
    expect(r.lastDumpPagesWritten).toBeUndefined();
    // Downtime falls back to the final dump command's start; the container moved.
    expect(r.downtimeMs).toBeGreaterThan(0);
    expect(r.freezeAtMs! + r.downtimeMs!).toBeCloseTo(r.totalMs, 3);
    expect(tb.edges.get('edge-b')!.running.has('c1')).toBe(true);
    expect(tb.edges.get('edge-a')!.running.has('c1')).toBe(false);
  });

  it('migrated, but the source cleanup found the destination without it: the record is written and migrate exits 1, naming recover', async () => {
    // The destination's copy is gone by the cleanup's check (its third look, after the restore's stats are read).
    const tb = testbed((kind, _argv, edge) =>
      edge.name === 'edge-b' && kind === 'lxc-state' && edge.kinds.includes('read-stats-restore') ? { exitCode: 1 } : undefined,
    );
    const dir = scratchDir('fm-scripted-cli-');
    const inventoryPath = writeJson(dir, 'inventory.json', tb.inventory);
    const out = join(dir, 'migrations.jsonl');
    const err = await migrateCommand(
      { inventory: inventoryPath, strategy: 'tmpfs', container: 'c1', from: 'edge-a', to: 'edge-b', predumps: '0', out },
      { connect: tb.connect, journalDir: tb.journalDir },
    ).catch((e: unknown) => e);
    expect(exitCodeFor(err)).toBe(EXIT.failed);
    const r = validateRecord(JSON.parse(readFileSync(out, 'utf8').trim()));
    expect(r.outcome).toBe('migrated');
    expect(r.cleanupWarning).toMatch(/^c1 is absent on edge-b after its restore/);
    expect((err as Error).message).toBe(
      `migration ${r.id} of c1 is not settled: ${r.cleanupWarning}. Run \`followme recover --inventory FILE --id ${r.id}\`; until then c1 cannot be migrated again`,
    );
    expect(unfinishedMigrations(tb.journalDir)).toMatchObject([{ id: r.id }]);
  });

  it('a slow listener is paused out of Ψ and the phases: the record passes every check', async () => {
    const tb = testbed();
    let heard = 0;
    let progress = 0;
    const slow = async (e: MigrationEvent) => {
      heard++;
      if (e.type === 'progress') progress++;
      await new Promise((resolve) => setTimeout(resolve, 40));
    };
    const r = await migrate({ ...c1ToEdgeB(tb), predumps: 2, onEvent: slow });
    expect(r.outcome).toBe('migrated');
    expect(recordProblems(r)).toEqual([]);
    expect(r.problems).toBeUndefined();
    // Every event the engine waits for took 40 ms; none of it is in Ψ, which the scripted commands keep small.
    // Progress events come mid-command (the rootfs copy) and nothing waits for them.
    expect(progress).toBe(3);
    expect(r.listenerMs).toBeGreaterThanOrEqual((heard - progress) * 35);
    expect(r.remoteCommandMs).toBeLessThanOrEqual(r.totalMs);
    expect(r.engineOverheadMs).toBeGreaterThanOrEqual(0);
    expect(r.totalMs).toBeLessThan(r.listenerMs!);
    const phaseSum = r.phases.reduce((s, p) => s + p.durationMs, 0);
    expect(Math.abs(phaseSum - r.totalMs)).toBeLessThan(0.05 * r.totalMs);
    expect(r.lastDumpPagesWritten).toBe(95);
  });

  it('a listener that throws changes nothing: the migration completes and the record keeps the error', async () => {
    const tb = testbed();
    const r = await migrate({
      ...c1ToEdgeB(tb),
      predumps: 1,
      onEvent: (e) => {
        if (e.type === 'phase-start' && e.kind === 'final-dump') throw new Error('display broke');
      },
    });
    expect(r.outcome).toBe('migrated');
    expect(r.listenerErrors).toEqual(['at phase-start: display broke']);
    expect(r.phases.map((p) => p.kind)).toContain('restore');
    expect(tb.edges.get('edge-b')!.running.has('c1')).toBe(true);
  });

  it('a record that fails a check after the migration lists the problem instead of throwing, and readers accept only listed problems', async () => {
    const tb = testbed();
    const r = await migrate({ ...c1ToEdgeB(tb), predumps: 0 });
    // A total the phases do not add up to (a clock that jumped, say): the phase-sum rule fails.
    const skewed = { ...r, totalMs: r.totalMs * 3, freezeAtMs: undefined, problems: undefined };
    expect(() => validateRecord(skewed)).toThrow(/phase times add up to/);
    const sealed = sealRecord(skewed);
    expect(sealed.problems).toEqual([expect.stringMatching(/^phase times add up to/)]);
    expect(validateRecord(JSON.parse(JSON.stringify(sealed))).outcome).toBe('migrated');
  });
});
