// The journal of unfinished migrations, over scripted edges: written before
// anything exists on an edge, step by step, gone once the migration settles,
// kept when it does not, and a reason for the next migrate to refuse.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, ConflictError } from '../../common/errors.js';
import { migrate, MigrationFailedError } from '../../migration/engine/migrate.js';
import { Journal, type JournalEntry, settle, unfinishedMigrations } from '../../migration/journal.js';
import { scriptedTestbed, type ScriptedAnswer } from './scripted-edge.js';

const base = { strategy: 'tmpfs', container: 'c1', from: 'edge-a', to: 'edge-b', predumps: 1 };

describe('the migration journal', () => {
  it('names each step as it starts and the point of no return once the restore is done; a settled migration leaves nothing', async () => {
    const tb = scriptedTestbed();
    const seen: Array<Pick<JournalEntry, 'step' | 'pointOfNoReturnPassed'>> = [];
    const peek = () => {
      const [entry] = unfinishedMigrations(tb.journalDir);
      if (entry) seen.push({ step: entry.step, pointOfNoReturnPassed: entry.pointOfNoReturnPassed });
    };
    const r = await migrate({
      ...base,
      inventory: tb.inventory,
      connect: tb.connect,
      journalDir: tb.journalDir,
      onEvent: (e) => {
        if (e.type === 'setup-done' || e.type === 'phase-end') peek();
      },
    });
    expect(r.outcome).toBe('migrated');
    expect(seen).toEqual([
      { step: 'set-up', pointOfNoReturnPassed: false },
      { step: 'rootfs copy', pointOfNoReturnPassed: false },
      { step: 'pre-dump 1', pointOfNoReturnPassed: false },
      { step: 'pre-dump 1 copy', pointOfNoReturnPassed: false },
      { step: 'final dump', pointOfNoReturnPassed: false },
      { step: 'final copy', pointOfNoReturnPassed: false },
      { step: 'restore', pointOfNoReturnPassed: true },
    ]);
    expect(unfinishedMigrations(tb.journalDir)).toEqual([]);
  });

  it('settling the entry of a killed controller also removes the lock and the half-written rewrite it left', () => {
    const tb = scriptedTestbed();
    const j = Journal.open(tb.journalDir, {
      id: 'm1',
      strategy: 'tmpfs',
      testbed: 'fmtest',
      container: 'c1',
      from: 'edge-a',
      to: 'edge-b',
      predumps: 1,
      lxcDir: '/var/lib/lxc/c1',
      workDir: '/tmp/followme-migrations/m1',
      ports: { receiver: 20000, pageServer: 30000 },
      startedAt: new Date().toISOString(),
    });
    // The controller dies holding it, in the middle of rewriting it: entry, lock directory and the half-written next version stay.
    writeFileSync(join(tb.journalDir, 'm1.json.partial'), '{"journalVersion": 1, "id": "m1", "st');
    expect(readdirSync(tb.journalDir).sort()).toEqual(['m1.json', 'm1.json.lock', 'm1.json.partial']);
    expect(unfinishedMigrations(tb.journalDir)).toMatchObject([{ id: 'm1' }]);
    settle(tb.journalDir, 'm1');
    expect(readdirSync(tb.journalDir)).toEqual([]);
    j.close();
  });

  it('holds what recover needs: the edges, work directories and ports', async () => {
    const tb = scriptedTestbed();
    let entry: JournalEntry | undefined;
    await migrate({
      ...base,
      inventory: tb.inventory,
      connect: tb.connect,
      journalDir: tb.journalDir,
      onEvent: (e) => {
        if (e.type === 'phase-start' && e.kind === 'final-dump') entry = unfinishedMigrations(tb.journalDir)[0];
      },
    });
    expect(entry).toMatchObject({
      journalVersion: 1,
      strategy: 'tmpfs',
      testbed: 'fmfake',
      container: 'c1',
      from: 'edge-a',
      to: 'edge-b',
      lxcDir: '/var/lib/lxc/c1',
      workDir: expect.stringMatching(/^\/tmp\/followme-migrations\/\d{8}T\d{6}Z-tmpfs-c1-[0-9a-f]{6}$/),
      ports: { receiver: expect.any(Number), pageServer: expect.any(Number) },
    });
    expect(entry!.workDir.endsWith(entry!.id)).toBe(true);
  });

  it('a rolled-back migration settles; one whose rollback fails stays, and the next migrate of the container refuses and names recover', async () => {
    // The restore fails, then so does every way back (the source's lxc-checkpoint too).
    let sourceRestoreWorks = true;
    const answer: ScriptedAnswer = (kind, _argv, edge) => {
      if (kind === 'lxc-restore' && (edge.name === 'edge-b' || !sourceRestoreWorks)) return { exitCode: 1 };
      if (kind === 'path-exists' && edge.name === 'edge-a') return { exitCode: 0 };
      return undefined;
    };
    const tb = scriptedTestbed(answer);
    const first = await migrate({ ...base, inventory: tb.inventory, connect: tb.connect, journalDir: tb.journalDir }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(MigrationFailedError);
    expect((first as MigrationFailedError).record.outcome).toBe('rolled-back');
    expect(unfinishedMigrations(tb.journalDir)).toEqual([]);

    sourceRestoreWorks = false;
    const second = await migrate({ ...base, inventory: tb.inventory, connect: tb.connect, journalDir: tb.journalDir }).catch((e: unknown) => e);
    expect((second as MigrationFailedError).record.outcome).toBe('failed');
    const [left] = unfinishedMigrations(tb.journalDir);
    expect(left).toMatchObject({
      step: 'rollback',
      pointOfNoReturnPassed: false,
      failure: expect.stringMatching(/^failed in restore: .*could not restore c1 on edge-a/),
    });

    const connects: string[] = [];
    const third = await migrate({
      ...base,
      inventory: tb.inventory,
      journalDir: tb.journalDir,
      connect: (n) => {
        connects.push(n.name);
        return tb.connect(n);
      },
    }).catch((e: unknown) => e);
    expect(third).toBeInstanceOf(ConflictError);
    expect((third as Error).message).toContain(`container c1 has an unfinished migration ${left!.id} (edge-a → edge-b by tmpfs, stopped at "rollback"`);
    expect((third as Error).message).toContain(`run \`followme recover --inventory FILE --id ${left!.id}\` first`);
    expect(connects).toEqual([]);
  });

  it('a refused migration leaves no entry; a set-up that fails and cannot take back what it made leaves one for recover', async () => {
    const refusedTb = scriptedTestbed();
    refusedTb.running['edge-a']!.clear();
    await expect(migrate({ ...base, inventory: refusedTb.inventory, connect: refusedTb.connect, journalDir: refusedTb.journalDir })).rejects.toThrow(
      /container c1 is absent on edge-a/,
    );
    expect(unfinishedMigrations(refusedTb.journalDir)).toEqual([]);

    // The destination's rsync daemon does not start, and its work directory cannot be removed.
    const stuck: ScriptedAnswer = (kind, _argv, edge) =>
      edge.name === 'edge-b' && (kind === 'rsync-daemon' || kind === 'remove-images') ? { exitCode: 1 } : undefined;
    const tb = scriptedTestbed(stuck);
    await expect(migrate({ ...base, inventory: tb.inventory, connect: tb.connect, journalDir: tb.journalDir })).rejects.toThrow(/rsync-daemon exited with 1/);
    expect(unfinishedMigrations(tb.journalDir)).toEqual([expect.objectContaining({ step: 'set-up', container: 'c1' })]);
  });

  it('a file in the journal that is not an entry stops migrate with its path, instead of being ignored', () => {
    const tb = scriptedTestbed();
    const entry = { journalVersion: 1, id: 'x' };
    mkdirSync(tb.journalDir, { recursive: true });
    writeFileSync(join(tb.journalDir, 'x.json'), JSON.stringify(entry));
    expect(() => unfinishedMigrations(tb.journalDir)).toThrow(ConfigError);
    expect(() => unfinishedMigrations(tb.journalDir)).toThrow(/journal .*x\.json: not a journal entry/);
    writeFileSync(join(tb.journalDir, 'x.json'), '{"torn');
    expect(() => unfinishedMigrations(tb.journalDir)).toThrow(/x\.json: not valid JSON/);
    expect(readFileSync(join(tb.journalDir, 'x.json'), 'utf8')).toBe('{"torn');
  });
});
