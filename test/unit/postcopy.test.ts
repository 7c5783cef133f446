// The lazy strategies through the real engine on scripted edges: a strategy
// whose CRIU feature an edge lacks is refused before anything is made; a
// post-copy move records its lazy window; one that loses the window says the
// state is lost, with the pages that never arrived, and leaves no copy running.
import { describe, expect, it } from 'vitest';
import { migrate, MigrationFailedError } from '../../migration/engine/migrate.js';
import { unfinishedMigrations } from '../../migration/journal.js';
import { scriptedTestbed, type ScriptedAnswer } from './scripted-edge.js';

/** Kinds that make something on an edge: none may run before a refusal. */
const MAKING = ['mkdir', 'make-dump-dirs', 'rsync-daemon', 'prepare-network', 'warm-kdat', 'rsync-rootfs', 'criu-dump'];

async function moveBy(strategy: string, answer?: ScriptedAnswer) {
  const tb = scriptedTestbed(answer);
  const run = migrate({ inventory: tb.inventory, strategy, container: 'c1', from: 'edge-a', to: 'edge-b', connect: tb.connect, journalDir: tb.journalDir });
  const record = await run.catch((e: unknown) => {
    if (e instanceof MigrationFailedError) return e.record;
    throw e;
  });
  return { tb, record };
}

describe('CRIU features', () => {
  it('refuses a strategy whose feature an edge lacks before anything is made, naming the edge and the feature', async () => {
    const tb = scriptedTestbed((kind, _argv, edge) => (kind === 'criu-features' && edge.name === 'edge-b' ? { stdout: 'uffd-noncoop\n' } : undefined));
    const moving = migrate({
      inventory: tb.inventory,
      strategy: 'postcopy',
      container: 'c1',
      from: 'edge-a',
      to: 'edge-b',
      connect: tb.connect,
      journalDir: tb.journalDir,
    });
    await expect(moving).rejects.toThrow(/strategy postcopy needs CRIU features that edge-b lacks: edge-b lacks uffd-noncoop \(/);
    for (const edge of tb.edges.values()) expect(edge.kinds.filter((k) => MAKING.includes(k))).toEqual([]);
    expect(unfinishedMigrations(tb.journalDir)).toEqual([]);
    expect([...tb.running['edge-a']!]).toEqual(['c1']);
  });

  it('asks each edge for every feature the strategy declares', async () => {
    const { tb } = await moveBy('hybrid', (kind) => (kind === 'read-lazy-pages-log' ? { stdout: 'stopped\n10 10 1 0\n' } : undefined));
    for (const edge of tb.edges.values()) {
      const asked = edge.commands.find((c) => c.startsWith('criu-features:'));
      for (const f of ['mem_dirty_track', 'network_lock_nftables', 'external_net_ns', 'uffd', 'uffd-noncoop']) expect(asked).toContain(` ${f}`);
    }
  });
});

describe('postcopy on scripted edges', () => {
  it('records the lazy window: downtime to the restore, the pages that came lazily and the faults', async () => {
    const { tb, record } = await moveBy('postcopy', async (kind) => {
      // Phases that take a while, as on a node: the journal's fsync between two phases stays a small share of the total.
      if (kind === 'rsync-rootfs') await new Promise((r) => setTimeout(r, 200));
      if (kind === 'read-lazy-pages-log') return { stdout: 'stopped\n300 300 17 0\n' };
      if (kind === 'wait-lazy-dump') return { stdout: '40\n' };
      return undefined;
    });
    expect(record.outcome, JSON.stringify(record.error)).toBe('migrated');
    expect(record.problems, JSON.stringify(record.problems)).toBeUndefined();
    expect(record.phases.map((p) => p.kind)).toEqual(['rootfs-copy', 'final-dump', 'final-copy', 'restore', 'lazy-pages']);
    expect(record.lazy).toMatchObject({ pagesLazy: 300, pagesSentLazily: 300, faults: 17 });
    const restore = record.phases.find((p) => p.kind === 'restore')!;
    expect(record.lazy!.restoredAtMs).toBeCloseTo(restore.startMs + restore.durationMs, 6);
    // The downtime ends when the container runs on the destination, not with the lazy window.
    expect(record.freezeAtMs! + record.downtimeMs!).toBeCloseTo(record.lazy!.restoredAtMs, 6);
    expect(record.lazy!.windowMs).toBeGreaterThanOrEqual(0);
    expect([...tb.running['edge-b']!]).toEqual(['c1']);
    expect(unfinishedMigrations(tb.journalDir)).toEqual([]);
  });

  it('a lazy window that fails says the state is lost, with the pages that never arrived, and leaves no copy running', async () => {
    const { tb, record } = await moveBy('postcopy', (kind) => (kind === 'read-lazy-pages-log' ? { stdout: 'stopped\n300 240 9 2\n' } : undefined));
    expect(record.outcome).toBe('failed');
    expect(record.error).toMatchObject({ phase: 'lazy pages' });
    expect(record.error!.stateLost).toMatch(/with 60 pages still on edge-a/);
    expect(record.lazy).toMatchObject({ pagesLazy: 300, pagesSentLazily: 240, pagesNotArrived: 60 });
    expect(record.lazy!.lastPageAtMs).toBeUndefined();
    expect(record.problems).toBeUndefined();
    expect([...tb.running['edge-a']!, ...tb.running['edge-b']!]).toEqual([]);
    expect(tb.edges.get('edge-b')!.kinds).toContain('lxc-kill');
    expect(unfinishedMigrations(tb.journalDir)).toEqual([]);
  });

  it("the controller's connection to the destination dropped in the lazy window is opened again: the move ends migrated and says so", async () => {
    let reads = 0;
    const { tb, record } = await moveBy('postcopy', (kind, _argv, edge) => {
      if (kind !== 'read-lazy-pages-log') return undefined;
      reads += 1;
      if (reads === 2) {
        edge.ssh.sever('cut by the test');
        throw new Error(`${edge.name}: the SSH connection was lost (cut by the test)`);
      }
      return { stdout: reads < 3 ? 'running\n300 100 4 0\n' : 'stopped\n300 300 9 0\n' };
    });
    expect(record.outcome, record.error?.message).toBe('migrated');
    expect(record.lazy).toMatchObject({ pagesLazy: 300, pagesSentLazily: 300, faults: 9 });
    expect(record.lazy!.warning).toMatch(/the SSH connection to edge-b was lost in the lazy window \(cut by the test\) and opened again/);
    // Its reads, over both connections, are in the phase's record; the time between them (the daemon's) is not the engine's overhead.
    const window = record.phases.find((p) => p.kind === 'lazy-pages')!;
    expect(window.commands.filter((c) => c.kind === 'read-lazy-pages-log')).toHaveLength(2);
    const watched = window.durationMs - window.commands.reduce((n, c) => n + c.remoteMs, 0);
    expect(watched).toBeGreaterThan(250);
    expect(record.engineOverheadMs).toBeLessThan(watched);
    expect([...tb.running['edge-b']!]).toEqual(['c1']);
    expect([...tb.running['edge-a']!]).toEqual([]);
  });

  it('a lazy window lost with the destination: keeps the source copy, whose root file system is whole, and removes the destination one', async () => {
    let sourceResumed = false;
    const { tb, record } = await moveBy('postcopy', (kind, _argv, edge) => {
      if (kind === 'read-lazy-pages-log') {
        // The destination's copy died; CRIU's failed dump resumed the source's tasks.
        edge.running.delete('c1');
        sourceResumed = true;
        return { stdout: 'stopped\n300 240 9 2\n' };
      }
      if (edge.name === 'edge-a' && sourceResumed && kind === 'lxc-state') return { stdout: 'RUNNING\n' };
      if (edge.name === 'edge-b' && kind === 'lxc-state' && !edge.running.has('c1') && edge.kinds.includes('read-lazy-pages-log'))
        return { stdout: 'STOPPED\n' };
      if (edge.name === 'edge-a' && sourceResumed && kind === 'lxc-kill') sourceResumed = false;
      return undefined;
    });
    expect(record.error?.stateLost).toMatch(/60 pages still on edge-a/);
    expect(record.error?.rollback).toMatch(/^c1 is stopped on edge-a with its root file system/);
    // The destination's copy goes as a rollback removes it: its own directory (lxc-destroy would take a shared rootfs too).
    expect(tb.edges.get('edge-b')!.commands).toContain('remove-container-dir: rm -rf --one-file-system /var/lib/lxc/c1');
    expect(tb.edges.get('edge-b')!.kinds).not.toContain('lxc-destroy');
    expect(tb.edges.get('edge-a')!.kinds).toContain('lxc-kill');
    expect(tb.edges.get('edge-a')!.kinds).not.toContain('lxc-destroy');
    expect(unfinishedMigrations(tb.journalDir)).toEqual([]);
  });

  it('a restore that fails before the container runs rolls back: the lazy dump is made to fail, the source resumes and is unlocked', async () => {
    const { tb, record } = await moveBy('postcopy', (kind, _argv, edge) => {
      if (kind === 'criu-lazy-pages') return { exitCode: 1, stderr: 'no userfaultfd' };
      if (kind === 'lxc-pid') return { stdout: '4242\n' };
      // CRIU's failure path resumes the source's tasks.
      if (kind === 'fail-lazy-dump') {
        edge.running.add('c1');
        return { stdout: 'failed\n' };
      }
      return undefined;
    });
    expect(record.outcome).toBe('rolled-back');
    expect(record.error?.stateLost).toBeUndefined();
    expect(record.error?.rollback).toMatch(/lazy dump made to fail/);
    expect(tb.edges.get('edge-a')!.kinds, record.error?.rollback).toContain('drop-network-lock');
    expect([...tb.running['edge-a']!]).toEqual(['c1']);
    expect([...tb.running['edge-b']!]).toEqual([]);
  });
});
