// Faults through the real engine and strategies over scripted edges: where
// a fault goes in, when it is healed, what the record says, and that a lost
// SSH connection is opened again for the rollback. Which faults a plan may
// ask for is checked before anything runs.
import { describe, expect, it } from 'vitest';
import { CommandError } from '../../common/errors.js';
import { checkFault, faultInjector, faultPhases } from '../../experiment/faults.js';
import type { Edge } from '../../migration/edge.js';
import { migrate, MigrationFailedError } from '../../migration/engine/migrate.js';
import { recover } from '../../migration/engine/recover.js';
import type { FaultHook } from '../../migration/engine/types.js';
import type { FaultRecord } from '../../migration/record/schema.js';
import { validateRecord } from '../../migration/record/validate.js';
import { unfinishedMigrations } from '../../migration/journal.js';
import { type ScriptedTestbed, scriptedTestbed } from './scripted-edge.js';

const c1ToEdgeB = (tb: ScriptedTestbed, fault?: FaultHook) => ({
  inventory: tb.inventory,
  strategy: 'tmpfs',
  container: 'c1',
  from: 'edge-a',
  to: 'edge-b',
  predumps: 1,
  connect: tb.connect,
  journalDir: tb.journalDir,
  fault,
});

/** A fault whose effect the scripted edges read from `on`; it takes `injectMs` to put in. */
function scriptedFault(phase: string, o: { kind?: string; healBeforeRollback?: boolean; injectMs?: number; act?: FaultHook['inject'] } = {}) {
  const state = { on: false, injectedAt: '', healedAt: '', order: [] as string[] };
  const record: FaultRecord = { kind: o.kind ?? 'scripted', phase, injected: false, did: [], healed: [] };
  const hook: FaultHook = {
    kind: record.kind,
    phase,
    healBeforeRollback: o.healBeforeRollback ?? true,
    async inject(edges) {
      await new Promise((r) => setTimeout(r, o.injectMs ?? 0));
      state.on = true;
      state.order.push('inject');
      record.injected = true;
      record.did.push('scripted fault in');
      await o.act?.(edges);
    },
    async heal() {
      if (!state.on) return;
      state.on = false;
      state.order.push('heal');
      record.healed.push('scripted fault out');
    },
    report: () => structuredClone(record),
  };
  return { hook, state };
}

describe('a fault injected into a migration', () => {
  it('goes in at the start of its phase with the clock paused, is healed before rollback, and the record names it', async () => {
    const fault = scriptedFault('final copy', { injectMs: 300 });
    const tb = scriptedTestbed((kind, argv) => {
      if (kind === 'rsync-images' && fault.state.on) return { exitCode: 10, stderr: 'rsync: failed to connect: Connection timed out' };
      if (kind === 'lxc-restore') fault.state.order.push('restore on the source');
      // The final dump's images are on the source.
      if (kind === 'path-exists' && argv[2]?.endsWith('/dump/inventory.img')) return { exitCode: 0 };
      return undefined;
    });
    const err = await migrate(c1ToEdgeB(tb, fault.hook)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationFailedError);
    const rec = validateRecord((err as MigrationFailedError).record);
    expect(rec.outcome).toBe('rolled-back');
    expect(rec.error?.phase).toBe('final copy');
    expect(rec.fault).toEqual({ kind: 'scripted', phase: 'final copy', injected: true, did: ['scripted fault in'], healed: ['scripted fault out'] });
    // Healed first, then the container restored on the source from its final dump.
    expect(fault.state.order).toEqual(['inject', 'heal', 'restore on the source']);
    // The 300 ms of injecting are in no phase and not in Ψ.
    const finalCopy = rec.phases.find((p) => p.name === 'final copy')!;
    expect(finalCopy.durationMs).toBeLessThan(250);
    expect(tb.running['edge-a']!.has('c1')).toBe(true);
    expect(tb.running['edge-b']!.has('c1')).toBe(false);
    expect(unfinishedMigrations(tb.journalDir)).toEqual([]);
  });

  it('a fault whose phase never comes is reported as not injected', async () => {
    const fault = scriptedFault('restore');
    const tb = scriptedTestbed((kind) => (kind === 'criu-pre-dump' ? { exitCode: 1, stderr: 'Error (criu/cr-dump.c): boom' } : undefined));
    const err = (await migrate(c1ToEdgeB(tb, fault.hook)).catch((e: unknown) => e)) as MigrationFailedError;
    expect(err.record.error?.phase).toBe('pre-dump 1');
    expect(err.record.fault).toMatchObject({ phase: 'restore', injected: false, healed: [] });
    expect(fault.state.order).toEqual([]);
  });

  it('a fault absorbed by the one retry of a dump: migrated, and the record names the retried phase and its first error', async () => {
    const fault = scriptedFault('pre-dump 1');
    let attempts = 0;
    const tb = scriptedTestbed((kind) => {
      if (kind !== 'criu-pre-dump') return undefined;
      attempts += 1;
      return attempts === 1 ? { exitCode: 1, stderr: 'Error (criu/page-xfer.c): page server went away' } : undefined;
    });
    const rec = validateRecord(await migrate(c1ToEdgeB(tb, fault.hook)));
    expect(rec.outcome).toBe('migrated');
    expect(attempts).toBe(2);
    expect(rec.retries).toEqual([{ phase: 'pre-dump 1', error: expect.stringContaining('criu-pre-dump exited with 1') }]);
    expect(rec.fault).toMatchObject({ phase: 'pre-dump 1', injected: true });
  });

  it('a fault rollback must live with (a destroyed VM) is healed after the rollback', async () => {
    const fault = scriptedFault('pre-dump 1 copy', { healBeforeRollback: false });
    const tb = scriptedTestbed((kind) => {
      if (kind === 'rsync-images' && fault.state.on) return { exitCode: 10 };
      if (kind === 'remove-container-dir') fault.state.order.push('destination cleaned');
      return undefined;
    });
    await migrate(c1ToEdgeB(tb, fault.hook)).catch(() => undefined);
    expect(fault.state.order).toEqual(['inject', 'destination cleaned', 'heal']);
  });

  it('a severed SSH connection fails the phase; rollback opens it again and the container keeps running on the source', async () => {
    const fault = scriptedFault('pre-dump 1 copy', { act: async ({ source }) => source.ssh.sever('cut by the test') });
    const tb = scriptedTestbed();
    const first = await tb.connect(tb.inventory.nodes.find((n) => n.name === 'edge-a')!);
    const err = (await migrate(c1ToEdgeB(tb, fault.hook)).catch((e: unknown) => e)) as MigrationFailedError;
    expect(err).toBeInstanceOf(MigrationFailedError);
    const rec = validateRecord(err.record);
    expect(rec.outcome).toBe('rolled-back');
    expect(rec.error?.message).toMatch(/SSH connection was lost \(cut by the test\)/);
    expect(rec.error?.rollback).toMatch(/^the SSH connection to edge-a was lost \(cut by the test\) and opened again; .*kept running on edge-a/);
    // A new connection did the rollback: it asked where the container runs, and looked for what the lost one had left running.
    const again = tb.edges.get('edge-a')!;
    expect(again).not.toBe(first);
    expect(again.kinds).toEqual(expect.arrayContaining(['find-migration-processes', 'lxc-state']));
    expect(tb.running['edge-a']!.has('c1')).toBe(true);
    expect(unfinishedMigrations(tb.journalDir)).toEqual([]);
  });

  it("the destination's connection lost during a copy the source pushes fails the next phase at its start: the container is never dumped", async () => {
    // The keepalive finds the destination gone while the source's rsync runs; the copy needs only the source.
    const tb: ScriptedTestbed = scriptedTestbed((kind) => {
      if (kind === 'rsync-images') tb.edges.get('edge-b')!.ssh.sever('Keepalive timeout');
      return undefined;
    });
    const source = await tb.connect(tb.inventory.nodes.find((n) => n.name === 'edge-a')!);
    const err = (await migrate(c1ToEdgeB(tb)).catch((e: unknown) => e)) as MigrationFailedError;
    const rec = validateRecord(err.record);
    expect(rec.outcome, rec.error?.rollback).toBe('rolled-back');
    expect(rec.error?.phase).toBe('final dump');
    expect(rec.error?.message).toMatch(/^edge-b: the SSH connection was lost \(Keepalive timeout\) before this phase/);
    expect(rec.phases.map((p) => p.name)).toEqual(['rootfs copy', 'pre-dump 1', 'pre-dump 1 copy', 'final dump']);
    expect(source.kinds).toContain('criu-pre-dump');
    expect(source.kinds).not.toContain('criu-dump');
    // A kept source copy gets its links up: a final dump's hook may have taken them down before CRIU died.
    expect(source.kinds).toContain('links-up');
    expect(tb.running['edge-a']!.has('c1')).toBe(true);
    expect(unfinishedMigrations(tb.journalDir)).toEqual([]);
  });

  it("the source's connection lost at the restore's start does not stop it: migrated, and source cleanup opens the connection again", async () => {
    const fault = scriptedFault('restore', { act: async ({ source }) => source.ssh.sever('cut by the test') });
    const tb = scriptedTestbed();
    const rec = validateRecord(await migrate(c1ToEdgeB(tb, fault.hook)));
    expect(rec.outcome).toBe('migrated');
    expect(tb.running['edge-b']!.has('c1')).toBe(true);
    expect(tb.running['edge-a']!.has('c1')).toBe(false);
    expect(unfinishedMigrations(tb.journalDir)).toEqual([]);
  });
});

describe('a destination that is gone', () => {
  it("diskless, back from a reboot at the restore: the final dump's pages went with its tmpfs; the record says the state is lost, and nothing is left", async () => {
    // The restore fails as the destination goes down; it answers again, without its work directory.
    const tb = scriptedTestbed((kind, argv) => {
      if (kind === 'lxc-restore') return { exitCode: 1, stderr: 'Error: the VM went down' };
      if (kind === 'path-exists' && argv[2]?.endsWith('/dump/inventory.img')) return { exitCode: 0 };
      return undefined;
    });
    const err = (await migrate({ ...c1ToEdgeB(tb), strategy: 'diskless' }).catch((e: unknown) => e)) as MigrationFailedError;
    const rec = validateRecord(err.record);
    expect(rec.outcome).toBe('failed');
    expect(rec.error?.phase).toBe('restore');
    expect(rec.error?.rollback).toMatch(
      /^c1's in-memory state is lost: its final dump's pages were only on edge-b, in \S+\/dump \(tmpfs\), which no longer exists: edge-b went down, or the directory was removed; c1 is stopped on edge-a with its root file system: start it anew to run it without that state; edge-b cleaned and the images removed$/,
    );
    expect(rec.error?.stateLost).toMatch(/^c1's in-memory state is lost: /);
    expect(tb.edges.get('edge-a')!.kinds).not.toContain('lxc-restore');
    expect(tb.running['edge-a']!.size + tb.running['edge-b']!.size).toBe(0);
    // Nothing for recover: the journal entry is settled.
    expect(unfinishedMigrations(tb.journalDir)).toEqual([]);
  });

  // The destination does not come back while the migration settles.
  const unreachableOnceLost =
    (tb: ScriptedTestbed): typeof tb.connect =>
    async (n) => {
      if (n.name === 'edge-b' && tb.edges.get('edge-b')?.ssh.lostReason) throw new Error('edge-b: SSH connection failed: connect EHOSTUNREACH');
      return tb.connect(n);
    };

  it.each([
    // Before the final dump: the container still runs on the source.
    ['pre-dump 1 copy', /kept running on edge-a; edge-b could not be cleaned/],
    // After it: the container is restored on the source from its final dump.
    ['restore', /running on edge-a again \(restored on edge-a from its final dump\); edge-b could not be cleaned/],
  ])(
    'in %s: the container runs on the source (rolled-back), the record says the destination was not cleaned, the journal entry stays for recover',
    async (phase, where) => {
      const fault = scriptedFault(phase, { healBeforeRollback: false, act: async ({ dest }) => dest.ssh.sever('keepalive unanswered') });
      const tb = scriptedTestbed((kind, argv) => {
        // Nothing reaches the destination any more, the rsync daemon there neither.
        if (kind.startsWith('rsync') && fault.state.on) return { exitCode: 10, stderr: 'rsync: failed to connect: No route to host' };
        if (kind === 'path-exists' && argv[2]?.endsWith('/dump/inventory.img')) return { exitCode: 0 };
        return undefined;
      });
      const err = (await migrate({ ...c1ToEdgeB(tb, fault.hook), connect: unreachableOnceLost(tb) }).catch((e: unknown) => e)) as MigrationFailedError;
      const rec = validateRecord(err.record);
      expect(rec.outcome, rec.error?.rollback).toBe('rolled-back');
      expect(rec.error?.phase).toBe(phase);
      expect(rec.error?.rollback).toMatch(/could not be opened again: edge-b: SSH connection failed: connect EHOSTUNREACH/);
      expect(rec.error?.rollback).toMatch(where);
      expect(rec.error?.rollback).toMatch(/`followme recover` removes what is left once it can/);
      expect(tb.running['edge-a']!.has('c1')).toBe(true);
      expect(unfinishedMigrations(tb.journalDir)).toMatchObject([{ container: 'c1', step: 'rollback' }]);
    },
  );
  it.each([
    ['its keepalive fails', 'lost'],
    ['a command on it reaches its bound first', 'timed out'],
  ] as const)(
    'found dead only while rollback waits for the migration to quiesce (a destroyed VM; %s): still rolled-back on the source',
    async (_how, flavour) => {
      const fault = scriptedFault('pre-dump 1 copy', { healBeforeRollback: false });
      let destDead = false;
      const tb = scriptedTestbed((kind, argv, edge) => {
        if (kind.startsWith('rsync') && fault.state.on) return { exitCode: 10, stderr: 'rsync: failed to connect: No route to host' };
        // The first command that waits on the destination finds it dead; every later one too.
        if (edge.name === 'edge-b' && (destDead || (kind === 'find-migration-processes' && fault.state.on))) {
          destDead = true;
          if (flavour === 'timed out') throw new CommandError({ host: 'edge-b', argv, exitCode: undefined, stderr: '', durationMs: 60_000, timedOut: true });
          edge.ssh.sever('Keepalive timeout');
          throw new Error('edge-b: the SSH connection was lost (Keepalive timeout)');
        }
        return undefined;
      });
      const err = (await migrate({ ...c1ToEdgeB(tb, fault.hook), connect: unreachableOnceLost(tb) }).catch((e: unknown) => e)) as MigrationFailedError;
      const rec = validateRecord(err.record);
      expect(rec.outcome, rec.error?.rollback).toBe('rolled-back');
      expect(rec.error?.rollback).toMatch(
        flavour === 'lost'
          ? /^edge-b did not answer while waiting for the migration's processes to end: the SSH connection to it was lost \(Keepalive timeout\); /
          : /^edge-b did not answer while waiting for the migration's processes to end: edge-b: `env P=.*` timed out after 60000 ms; /,
      );
      expect(rec.error?.rollback).toMatch(/kept running on edge-a; edge-b could not be cleaned/);
      // The source was quiesced before the destination was asked.
      expect(tb.edges.get('edge-a')!.kinds).toContain('find-migration-processes');
      expect(tb.running['edge-a']!.has('c1')).toBe(true);
      expect(unfinishedMigrations(tb.journalDir)).toMatchObject([{ container: 'c1', step: 'rollback' }]);
    },
  );
});

describe('a destination that loses the container after its restore (its VM destroyed in source cleanup)', () => {
  it('keeps the source copy and the final dump, says so, and recover brings the container back on the source', async () => {
    let tb: ScriptedTestbed | undefined;
    const fault = scriptedFault('source cleanup', {
      act: async () => {
        tb!.running['edge-b']!.clear();
      },
    });
    tb = scriptedTestbed((kind, argv) => (kind === 'path-exists' && argv[2]?.endsWith('/dump/inventory.img') ? { exitCode: 0 } : undefined));
    const rec = validateRecord(await migrate(c1ToEdgeB(tb, fault.hook)));
    // The restore had finished: migrated, but the warning says where the container's state is now.
    expect(rec.outcome).toBe('migrated');
    expect(rec.cleanupWarning).toMatch(/^c1 is absent on edge-b after its restore: the source copy and the images are kept; `followme recover` settles it$/);
    expect(tb.edges.get('edge-a')!.kinds).not.toContain('lxc-destroy');
    expect(tb.edges.get('edge-a')!.kinds).not.toContain('remove-images');
    expect(unfinishedMigrations(tb.journalDir)).toMatchObject([{ container: 'c1', pointOfNoReturnPassed: true }]);

    const [r] = await recover({ inventory: tb.inventory, connect: tb.connect, journalDir: tb.journalDir, quietWaitMs: 1000 });
    expect(r).toMatchObject({ settled: true, runningOn: 'edge-a' });
    expect(tb.running['edge-a']!.has('c1')).toBe(true);
    expect(unfinishedMigrations(tb.journalDir)).toEqual([]);
  });
});

describe('images a rollback cannot remove', () => {
  it('are tried again, then named in the outcome, and the journal entry stays for recover', async () => {
    const fault = scriptedFault('restore', { act: async ({ dest }) => dest.ssh.sever('cut') });
    let removals = 0;
    const tb = scriptedTestbed((kind, argv, edge) => {
      if (kind === 'path-exists' && argv[2]?.endsWith('/dump/inventory.img')) return { exitCode: 0 };
      // An NFS client holding a removed image open keeps it as .nfs…, so its directory stays.
      if (kind === 'remove-images' && edge.name === 'edge-a') {
        removals += 1;
        return { exitCode: 1, stderr: "rm: cannot remove '/tmp/followme-migrations/x/dump': Directory not empty" };
      }
      return undefined;
    });
    const err = (await migrate(c1ToEdgeB(tb, fault.hook)).catch((e: unknown) => e)) as MigrationFailedError;
    const rec = validateRecord(err.record);
    expect(rec.outcome).toBe('rolled-back');
    expect(tb.running['edge-a']!.has('c1')).toBe(true);
    expect(removals).toBe(3);
    expect(rec.error?.rollback).toMatch(/edge-b cleaned; the images in \S+ could not be removed \(edge-a: rm: cannot remove .*Directory not empty\)/);
    expect(unfinishedMigrations(tb.journalDir)).toMatchObject([{ container: 'c1', step: 'rollback' }]);
  });
});

describe('which faults a plan may ask for', () => {
  it('names the phases of each strategy, page-server dumps by their plain names', () => {
    expect(faultPhases('tmpfs', 1)).toEqual(['rootfs copy', 'pre-dump 1', 'pre-dump 1 copy', 'final dump', 'final copy', 'restore', 'source cleanup']);
    expect(faultPhases('diskless', 1)).toEqual(['rootfs copy', 'pre-dump 1', 'final dump', 'final copy', 'restore', 'source cleanup']);
    expect(faultPhases('shared', 2)).toEqual(['pre-dump 1', 'pre-dump 2', 'final dump', 'restore', 'source cleanup']);
  });

  it('refuses a phase a strategy does not have, and a kind that does not apply, naming the key and what is allowed', () => {
    expect(() => checkFault({ kind: 'link-cut', phase: 'rootfs copy' }, ['tmpfs', 'shared'], 2, 'plan.fault')).toThrow(
      /plan\.fault\.phase: "rootfs copy" is no phase of shared with 2 pre-dumps; its phases: pre-dump 1, pre-dump 2, final dump, restore, source cleanup/,
    );
    expect(() => checkFault({ kind: 'page-server-killed', phase: 'final dump' }, ['tmpfs', 'diskless'], 2, 'plan.fault')).toThrow(
      /plan\.fault\.kind: page-server-killed applies only to strategies that stream pages to a page server \(diskless, adaptive, lean, sharedlean\), not to tmpfs/,
    );
    expect(() => checkFault({ kind: 'link-cut', phase: 'pre-dump 3' }, ['diskless'], 2, 'plan.fault')).toThrow(/pre-dump 3/);
    expect(() => checkFault({ kind: 'dest-full', phase: 'final dump' }, ['tmpfs', 'diskless', 'shared'], 2, 'plan.fault')).not.toThrow();
  });
});

describe('a delayed fault', () => {
  const edgesCutBy = () => {
    const cut: string[] = [];
    const edge = (name: string) => ({ name, ssh: { sever: (why: string) => cut.push(`${name}: ${why}`) } }) as unknown as Edge;
    return { cut, edges: { source: edge('edge-a'), dest: edge('edge-b') } };
  };

  it('goes in after its delay without holding the phase up, and heal waits for it', async () => {
    const tb = scriptedTestbed();
    const { cut, edges } = edgesCutBy();
    const f = faultInjector({ kind: 'ssh-dropped-dest', phase: 'restore', afterMs: 150 }, tb.inventory, 'edge-a', 'edge-b');
    const t0 = performance.now();
    await f.inject(edges);
    expect(performance.now() - t0).toBeLessThan(100);
    expect(cut).toEqual([]);
    await new Promise((r) => setTimeout(r, 250));
    expect(cut).toEqual(['edge-b: cut by the fault injector']);
    await f.heal();
    expect(f.report()).toEqual({
      kind: 'ssh-dropped-dest',
      phase: 'restore',
      afterMs: 150,
      injected: true,
      did: ["cut the controller's SSH connection to edge-b"],
      healed: [],
    });
  });

  it('never goes in when the migration ends before its moment', async () => {
    const tb = scriptedTestbed();
    const { cut, edges } = edgesCutBy();
    const f = faultInjector({ kind: 'ssh-dropped-source', phase: 'restore', afterMs: 200 }, tb.inventory, 'edge-a', 'edge-b');
    await f.inject(edges);
    await f.heal();
    await new Promise((r) => setTimeout(r, 300));
    expect(cut).toEqual([]);
    expect(f.report()).toMatchObject({ injected: false, did: [] });
  });
});

describe('a migration aborted by its caller', () => {
  it('rolls back at its next phase before the point of no return, and the record says it was aborted', async () => {
    const abort = new AbortController();
    const tb = scriptedTestbed((kind) => {
      // The user turns back while the first pre-dump runs.
      if (kind === 'criu-pre-dump') abort.abort('the user went back into the source cell');
      return undefined;
    });
    const err = await migrate({ ...c1ToEdgeB(tb), signal: abort.signal }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationFailedError);
    const rec = validateRecord((err as MigrationFailedError).record);
    expect(rec.outcome).toBe('rolled-back');
    expect(rec.error?.message).toMatch(/^aborted by its caller before "pre-dump 1 copy": the user went back into the source cell/);
    expect(rec.phases.map((p) => p.name)).toEqual(['rootfs copy', 'pre-dump 1']);
    expect(tb.running['edge-a']!.has('c1')).toBe(true);
    expect(tb.running['edge-b']!.has('c1')).toBe(false);
  });

  it('an abort after the point of no return is not heard: the move finishes', async () => {
    const abort = new AbortController();
    const tb = scriptedTestbed((kind) => {
      if (kind === 'lxc-restore') abort.abort('too late');
      return undefined;
    });
    const rec = validateRecord(await migrate({ ...c1ToEdgeB(tb), signal: abort.signal }));
    expect(rec.outcome).toBe('migrated');
    expect(tb.running['edge-b']!.has('c1')).toBe(true);
  });
});
