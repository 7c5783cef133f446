// recover's decisions over scripted edges: for each place a dead controller
// can leave a migration, the container ends up running in exactly one place
// and the entry is settled; a second run finds nothing. (The same with real
// CRIU after a real SIGKILL: test/integration/recover.test.ts.)
import { describe, expect, it } from 'vitest';
import { migrationId } from '../../migration/engine/migrate.js';
import { recover } from '../../migration/engine/recover.js';
import { reportLines } from '../../cli/commands/recover.js';
import { portsFor } from '../../migration/engine/setup.js';
import { Journal, unfinishedMigrations } from '../../migration/journal.js';
import { TMPFS_ROOT } from '../../migration/storage/copied.js';
import { type ScriptedAnswer, scriptedTestbed } from './scripted-edge.js';

/** A journal entry as a controller killed at `step` leaves it (unlocked: its process is gone). */
function abandoned(journalDir: string, step: string, pointOfNoReturnPassed = false, strategy: 'tmpfs' | 'diskless' | 'postcopy' = 'tmpfs') {
  const id = migrationId(strategy, 'c1');
  const j = Journal.open(journalDir, {
    id,
    strategy,
    testbed: 'fmfake',
    container: 'c1',
    from: 'edge-a',
    to: 'edge-b',
    predumps: 1,
    lxcDir: '/var/lib/lxc/c1',
    workDir: `${TMPFS_ROOT}/${id}`,
    ports: portsFor(id),
    startedAt: new Date().toISOString(),
  });
  j.update({ step, pointOfNoReturnPassed });
  j.leave();
  return id;
}

/** The final dump's images exist on the source; the work and container directories exist everywhere. */
const dumpedOnSource: ScriptedAnswer = (kind, argv) => (kind === 'path-exists' && argv[2]?.endsWith('/dump/inventory.img') ? { exitCode: 0 } : undefined);

describe('followme recover', () => {
  it('killed during a pre-dump (the container still runs on the source): keeps it there and cleans the destination', async () => {
    const tb = scriptedTestbed();
    const id = abandoned(tb.journalDir, 'pre-dump 1');
    const [r] = await recover({ inventory: tb.inventory, connect: tb.connect, journalDir: tb.journalDir, quietWaitMs: 1000 });
    expect(r).toMatchObject({ id, settled: true, runningOn: 'edge-a' });
    expect(r!.found).toContain('c1 is RUNNING on edge-a and absent on edge-b');
    const dest = tb.edges.get('edge-b')!;
    expect(dest.commands).toContain(`remove-container-dir: rm -rf --one-file-system /var/lib/lxc/c1`);
    expect(dest.commands).toContain(`remove-images: rm -rf --one-file-system ${TMPFS_ROOT}/${id}`);
    expect(dest.commands.some((c) => c.startsWith('kill-pid-file: ') && c.includes(`/run/followme-rsyncd-${id}/rsyncd.pid`))).toBe(true);
    expect([...tb.running['edge-a']!]).toEqual(['c1']);
    expect(unfinishedMigrations(tb.journalDir)).toEqual([]);
  });

  it("an edge too busy to finish the SSH handshake (the dead controller's rsync still runs) is tried again; one that never answers is named", async () => {
    const tb = scriptedTestbed();
    const id = abandoned(tb.journalDir, 'rootfs copy');
    let refused = 0;
    const busyTwice = async (n: Parameters<typeof tb.connect>[0]) => {
      if (n.name === 'edge-b' && refused < 2) {
        refused += 1;
        throw new Error('edge-b (10.77.10.11): SSH connection failed: Timed out while waiting for handshake');
      }
      return tb.connect(n);
    };
    const [r] = await recover({ inventory: tb.inventory, connect: busyTwice, journalDir: tb.journalDir, quietWaitMs: 1000, connectPauseMs: 10 });
    expect(r).toMatchObject({ id, settled: true, runningOn: 'edge-a' });
    expect(refused).toBe(2);

    const tb2 = scriptedTestbed();
    abandoned(tb2.journalDir, 'rootfs copy');
    const never = async (n: Parameters<typeof tb.connect>[0]) => {
      if (n.name === 'edge-b') throw new Error('edge-b (10.77.10.11): SSH connection failed: connect EHOSTUNREACH');
      return tb2.connect(n);
    };
    const [gone] = await recover({ inventory: tb2.inventory, connect: never, journalDir: tb2.journalDir, quietWaitMs: 1000, connectPauseMs: 10 });
    expect(gone).toMatchObject({ settled: false });
    expect(gone!.problem).toBe(
      'cannot reach an edge (edge-b (10.77.10.11): SSH connection failed: connect EHOSTUNREACH (3 tries)); run recover again once both edge-a and edge-b answer',
    );
    expect(unfinishedMigrations(tb2.journalDir)).toHaveLength(1);
  });

  it('killed after the final dump (the container runs nowhere): restores it on the source from its final dump', async () => {
    const tb = scriptedTestbed(dumpedOnSource);
    tb.running['edge-a']!.clear();
    abandoned(tb.journalDir, 'final copy');
    const [r] = await recover({ inventory: tb.inventory, connect: tb.connect, journalDir: tb.journalDir, quietWaitMs: 1000 });
    expect(r).toMatchObject({ settled: true, runningOn: 'edge-a' });
    expect(r!.did[0]).toMatch(/^container c1 running on edge-a again \(restored on edge-a from its final dump\)/);
    expect(tb.edges.get('edge-a')!.kinds).toContain('lxc-restore');
    expect(tb.running['edge-b']!.size).toBe(0);
  });

  it.each([
    ['final copy', false],
    ['source cleanup', true],
  ])(
    'diskless, the destination down and back after the final dump (in %s): the pages went with its tmpfs; says the state is lost, leaves nothing, a second run finds nothing',
    async (step, pointOfNoReturnPassed) => {
      const pages: string[] = [];
      // The final dump finished on the source; the destination rebooted, so its work directory (tmpfs) is gone.
      const tb = scriptedTestbed((kind, argv, edge) => {
        if (kind === 'path-exists' && edge.name === 'edge-b' && argv[2]?.endsWith('/dump')) pages.push(argv[2]);
        return dumpedOnSource(kind, argv, edge);
      });
      tb.running['edge-a']!.clear();
      const id = abandoned(tb.journalDir, step, pointOfNoReturnPassed, 'diskless');
      const [r] = await recover({ inventory: tb.inventory, connect: tb.connect, journalDir: tb.journalDir, quietWaitMs: 1000 });
      expect(pages).toEqual([`${TMPFS_ROOT}/${id}/dump`]);
      expect(r).toMatchObject({ settled: true, stoppedOn: 'edge-a' });
      expect(r!.runningOn).toBeUndefined();
      expect(r!.stateLost).toBe(
        `c1's in-memory state is lost: its final dump's pages were only on edge-b, in ${TMPFS_ROOT}/${id}/dump (tmpfs), which no longer exists: edge-b went down, or the directory was removed`,
      );
      expect(reportLines(r!)[0]).toBe(`${id}: settled, state lost: ${r!.stateLost}; c1 is stopped on edge-a, to be started anew`);
      // Nothing half-done: no restore tried, the destination's copy and both edges' images removed, the entry settled.
      expect(tb.edges.get('edge-a')!.kinds).not.toContain('lxc-restore');
      expect(tb.edges.get('edge-b')!.commands).toContain('remove-container-dir: rm -rf --one-file-system /var/lib/lxc/c1');
      expect(tb.edges.get('edge-a')!.commands).toContain(`remove-images: rm -rf --one-file-system ${TMPFS_ROOT}/${id}`);
      expect(tb.running['edge-a']!.size + tb.running['edge-b']!.size).toBe(0);
      expect(unfinishedMigrations(tb.journalDir)).toEqual([]);
    },
  );

  it.each([
    ['the source served every page', true, 0, 'stopped\n300 280 12 0\n', undefined],
    ['every page arrived, the source did not say so', true, 1, 'stopped\n300 300 12 0\n', undefined],
    [
      '60 pages never arrived',
      true,
      1,
      'stopped\n300 240 12 1\n',
      /with 60 pages still on edge-a, and they cannot arrive now \(post-copy's lazy window\): .*: 60 of 300 lazy pages never arrived/,
    ],
    ['the copy stopped on the destination', false, 0, 'stopped\n300 300 12 0\n', /with part of its memory still on edge-a, .*: c1 no longer runs on edge-b$/],
  ])('postcopy, killed in the lazy window (%s): keeps the destination only when its copy is whole', async (_what, onDest, dumpExit, log, lost) => {
    const tb = scriptedTestbed((kind, _argv, edge) => {
      if (kind === 'read-lazy-pages-log' && edge.name === 'edge-b') return { stdout: log };
      if (kind === 'wait-lazy-dump' && edge.name === 'edge-a') return { stdout: '900\n', exitCode: dumpExit };
      return undefined;
    });
    tb.running['edge-a']!.clear();
    if (onDest) tb.running['edge-b']!.add('c1');
    abandoned(tb.journalDir, 'lazy pages', true, 'postcopy');
    const [r] = await recover({ inventory: tb.inventory, connect: tb.connect, journalDir: tb.journalDir, quietWaitMs: 1000 });
    expect(r!.settled, JSON.stringify(r)).toBe(true);
    // Never a rollback: the source's images lack the lazy pages, and its older copy may not run again.
    expect(tb.edges.get('edge-a')!.kinds).not.toContain('lxc-restore');
    if (lost) {
      expect(r!.stateLost).toMatch(lost);
      expect(r).toMatchObject({ stoppedOn: 'edge-b' });
      expect(tb.running['edge-a']!.size + tb.running['edge-b']!.size).toBe(0);
    } else {
      expect(r).toMatchObject({ runningOn: 'edge-b' });
      expect(r!.stateLost).toBeUndefined();
      expect([...tb.running['edge-b']!]).toEqual(['c1']);
    }
    expect(unfinishedMigrations(tb.journalDir)).toEqual([]);
  });

  it("postcopy, killed in the lazy window, the destination's copy gone while the source's dump still holds its tasks: keeps the source's copy, stopped", async () => {
    const tb = scriptedTestbed((kind, _argv, edge) => {
      if (kind === 'lxc-state' && edge.name === 'edge-a' && edge.running.has('c1')) return { stdout: 'FROZEN\n' };
      return undefined;
    });
    abandoned(tb.journalDir, 'lazy pages', true, 'postcopy');
    const [r] = await recover({ inventory: tb.inventory, connect: tb.connect, journalDir: tb.journalDir, quietWaitMs: 1000 });
    expect(r!.settled, JSON.stringify(r)).toBe(true);
    expect(r!.stateLost).toMatch(/c1 no longer runs on edge-b$/);
    expect(r).toMatchObject({ stoppedOn: 'edge-a' });
    // The destination's copy goes as a rollback removes it: its own directory, never lxc-destroy (a shared rootfs would go with it).
    expect(tb.edges.get('edge-b')!.commands).toContain('remove-container-dir: rm -rf --one-file-system /var/lib/lxc/c1');
    expect(tb.edges.get('edge-b')!.kinds).not.toContain('lxc-destroy');
    expect(tb.edges.get('edge-a')!.kinds).not.toContain('lxc-restore');
    expect(tb.running['edge-a']!.size + tb.running['edge-b']!.size).toBe(0);
    expect(unfinishedMigrations(tb.journalDir)).toEqual([]);
  });

  it('postcopy, killed in source cleanup (the window had ended): keeps the destination without judging the window again', async () => {
    // The dump's statistics and the daemon's log may be gone with the cleanup: unreadable here.
    const tb = scriptedTestbed((kind) => (kind === 'wait-lazy-dump' ? { exitCode: 1 } : undefined));
    tb.running['edge-a']!.clear();
    tb.running['edge-b']!.add('c1');
    abandoned(tb.journalDir, 'source cleanup', true, 'postcopy');
    const [r] = await recover({ inventory: tb.inventory, connect: tb.connect, journalDir: tb.journalDir, quietWaitMs: 1000 });
    expect(r).toMatchObject({ settled: true, runningOn: 'edge-b' });
    expect(r!.stateLost).toBeUndefined();
    expect([...tb.running['edge-b']!]).toEqual(['c1']);
  });

  it('killed after the restore finished (runs on the destination only): completes the migration', async () => {
    const tb = scriptedTestbed();
    // The final dump stopped the source's copy.
    tb.running['edge-a']!.clear();
    tb.stopped['edge-a']!.add('c1');
    tb.running['edge-b']!.add('c1');
    abandoned(tb.journalDir, 'restore', true);
    const [r] = await recover({ inventory: tb.inventory, connect: tb.connect, journalDir: tb.journalDir, quietWaitMs: 1000 });
    expect(r).toMatchObject({ settled: true, runningOn: 'edge-b' });
    expect(tb.edges.get('edge-a')!.kinds).toContain('lxc-destroy');
    expect(tb.stopped['edge-a']!.size).toBe(0);
    expect(tb.running['edge-b']!.has('c1')).toBe(true);
  });

  it('killed in a source cleanup that had removed the source copy: finishes it without removing the copy again', async () => {
    // LXC no longer knows the source's copy: lxc-destroy would fail ("Container is not defined"), as it did in the fault matrix.
    const tb = scriptedTestbed();
    tb.running['edge-a']!.clear();
    tb.running['edge-b']!.add('c1');
    abandoned(tb.journalDir, 'source cleanup', true);
    const [r] = await recover({ inventory: tb.inventory, connect: tb.connect, journalDir: tb.journalDir, quietWaitMs: 1000 });
    expect(r, JSON.stringify(r)).toMatchObject({ settled: true, runningOn: 'edge-b' });
    expect(r!.problem).toBeUndefined();
    expect(tb.edges.get('edge-a')!.kinds).not.toContain('lxc-destroy');
    expect(unfinishedMigrations(tb.journalDir)).toEqual([]);
  });

  it('a restore that finished before the journal said so still counts: the copy on the destination is kept', async () => {
    const tb = scriptedTestbed();
    tb.running['edge-a']!.clear();
    tb.running['edge-b']!.add('c1');
    abandoned(tb.journalDir, 'restore', false);
    const [r] = await recover({ inventory: tb.inventory, connect: tb.connect, journalDir: tb.journalDir, quietWaitMs: 1000 });
    expect(r).toMatchObject({ settled: true, runningOn: 'edge-b' });
  });

  it('waits for a step still running on an edge to end before deciding, and kills it when it does not', async () => {
    let polls = 0;
    const stillDumping: ScriptedAnswer = (kind, _argv, edge) => {
      if (edge.name !== 'edge-a') return undefined;
      if (kind === 'find-migration-processes') return { stdout: '4711 criu dump -D /tmp/followme-migrations/x/dump\n' };
      if (kind === 'wait-migration-processes') return polls++ === 0 ? { exitCode: 1 } : { exitCode: 0 };
      return undefined;
    };
    const tb = scriptedTestbed(stillDumping);
    abandoned(tb.journalDir, 'final dump');
    const [r] = await recover({ inventory: tb.inventory, connect: tb.connect, journalDir: tb.journalDir, quietWaitMs: 1000 });
    expect(r!.found).toContain('still running on edge-a: criu');
    expect(r!.did).toContain('killed them on edge-a after 1 s');
    const a = tb.edges.get('edge-a')!.kinds;
    expect(a.indexOf('kill-migration-processes')).toBeLessThan(a.indexOf('lxc-state'));
  });

  it('stopped before anything was made: settles without touching an edge; a second run finds nothing', async () => {
    const tb = scriptedTestbed();
    abandoned(tb.journalDir, 'checks');
    const [r] = await recover({ inventory: tb.inventory, id: unfinishedMigrations(tb.journalDir)[0]!.id, connect: tb.connect, journalDir: tb.journalDir });
    expect(r).toMatchObject({ settled: true, found: ['it stopped at "checks", before anything was made on an edge'], did: [] });
    expect(tb.edges.size).toBe(0);
    expect(await recover({ inventory: tb.inventory, connect: tb.connect, journalDir: tb.journalDir })).toEqual([]);
  });

  it('a container that can be put nowhere keeps its entry and its images, and says why', async () => {
    // Runs nowhere and the final dump never finished: nothing to restore from.
    const tb = scriptedTestbed();
    tb.running['edge-a']!.clear();
    abandoned(tb.journalDir, 'final dump');
    const [r] = await recover({ inventory: tb.inventory, connect: tb.connect, journalDir: tb.journalDir, quietWaitMs: 1000 });
    expect(r).toMatchObject({ settled: false, problem: expect.stringMatching(/container c1 is absent on edge-a and no final dump exists; images kept/) });
    expect(tb.edges.get('edge-a')!.kinds).not.toContain('remove-images');
    expect(unfinishedMigrations(tb.journalDir)).toHaveLength(1);
  });

  it('leftovers on the edges that no entry names are removed when their container runs once, kept when it runs nowhere', async () => {
    const orphan = migrationId('tmpfs', 'c1');
    const lister: ScriptedAnswer = (kind, argv, edge) => {
      if (kind === 'list-work-dirs' && argv[3] === TMPFS_ROOT && edge.name === 'edge-b') return { stdout: `${orphan}\nnot-a-migration\n` };
      if (kind === 'list-receivers' && edge.name === 'edge-b') return { stdout: `followme-rsyncd-${orphan}\n` };
      return undefined;
    };
    const tb = scriptedTestbed(lister);
    const [r] = await recover({ inventory: tb.inventory, connect: tb.connect, journalDir: tb.journalDir });
    expect(r).toMatchObject({ id: orphan, settled: true, runningOn: 'edge-a' });
    expect(r!.found).toEqual([`work directory ${TMPFS_ROOT}/${orphan} on edge-b`, `rsync daemon /run/followme-rsyncd-${orphan} on edge-b`]);
    expect(tb.edges.get('edge-b')!.commands).toContain(`remove-images: rm -rf --one-file-system ${TMPFS_ROOT}/${orphan}`);

    tb.running['edge-a']!.clear();
    const [kept] = await recover({ inventory: tb.inventory, connect: tb.connect, journalDir: tb.journalDir });
    expect(kept).toMatchObject({ settled: false, problem: 'c1 runs on no edge: its leftovers are kept, as they may hold its state' });
  });
});

describe("recover's removal of CRIU's network lock", () => {
  it('deletes the inet CRIU-<run id> tables CRIU 4 makes, and nothing else', async () => {
    const { execFileSync } = await import('node:child_process');
    const { mkdirSync, readFileSync, symlinkSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { scratchDir } = await import('../scratch.js');
    const { DROP_NETWORK_LOCK } = await import('../../migration/criu/network-lock.js');
    const d = scratchDir('fm-netlock-');
    const bin = join(d, 'bin');
    mkdirSync(bin);
    // A fake nft: lists a CRIU lock table beside the namespace's own, records every delete.
    writeFileSync(
      join(bin, 'nft'),
      `#!/bin/sh\nif [ "$1" = list ]; then printf 'table inet filter\\ntable inet CRIU-4776e8c4-9190-46d1-ba\\ntable ip nat\\n'; exit 0; fi\necho "$*" >> ${join(d, 'deleted')}\n`,
      { mode: 0o755 },
    );
    // PATH holds the fake and sed alone: no iptables, so that half is skipped and no real tool runs.
    symlinkSync(execFileSync('sh', ['-c', 'command -v sed']).toString().trim(), join(bin, 'sed'));
    const out = execFileSync('/bin/sh', ['-c', DROP_NETWORK_LOCK], { env: { PATH: bin } }).toString();
    expect(
      out
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('nftables')),
    ).toEqual(['nftables CRIU-4776e8c4-9190-46d1-ba']);
    expect(readFileSync(join(d, 'deleted'), 'utf8').trim()).toBe('delete table inet CRIU-4776e8c4-9190-46d1-ba');
  });
});
