// Live migration of the blank container between the two edges of the two-vm
// testbed, by tmpfs and diskless, there and back; and the rollbacks: the
// page server killed mid-migration, and a restore that fails on the
// destination. One container goes through all of it, so its count must
// never start over.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { scratchDir } from '../scratch.js';
import { readInventory } from '../../common/inventory.js';
import { deployContainer, removeContainer, containerState } from '../../migration/container.js';
import { migrate, MigrationFailedError } from '../../migration/engine/migrate.js';
import type { MigrationEvent } from '../../migration/engine/types.js';
import { validateRecord } from '../../migration/record/validate.js';
import { onNode } from './ssh.js';
import { followme } from './cli.js';
import { count, countAtLeast, expectCountContinues, expectSoundRecord, stateOn } from './migration-helpers.js';

const inv = () => readInventory(inject('twoVmInventory'));
const ipOf = (i: ReturnType<typeof inv>, node: string) => i.nodes.find((n) => n.name === node)!.ip;
const NAME = 'mig2';

describe('migration between the edges of two-vm', () => {
  let ip = '';
  let last = 0;

  beforeAll(async () => {
    const i = inv();
    const addr = i.containerAddresses[2]!;
    ip = addr.ip;
    await onNode(i, 'edge-a', (c) =>
      deployContainer(c, { name: NAME, ip: addr.ip, prefixLength: Number(i.subnet.split('/')[1]), mac: addr.mac, bridge: 'br0' }, { template: 'blank' }),
    );
    last = await countAtLeast(ip, 100);
  });

  afterAll(async () => {
    const i = inv();
    for (const node of ['edge-a', 'edge-b']) await onNode(i, node, (c) => removeContainer(c, NAME));
  });

  for (const strategy of ['tmpfs', 'diskless'] as const) {
    it(`${strategy}: edge-a → edge-b, the count goes on at the same address, then back`, async () => {
      const i = inv();
      const before = await count(ip);
      expect(before).toBeGreaterThanOrEqual(last);
      const events: MigrationEvent['type'][] = [];
      // What the destination exposes while the migration runs: its listeners and the daemon's config.
      // (Only events inside a phase or before Ψ may be awaited: a hook's time elsewhere counts in Ψ but in no phase.)
      let daemon = { listeners: '', config: '' };
      let pageServer = '';
      const r = await migrate({
        inventory: i,
        strategy,
        container: NAME,
        from: 'edge-a',
        to: 'edge-b',
        onEvent: async (e) => {
          events.push(e.type);
          // Set-up has started the daemon; this event comes before Ψ starts, so probing here costs the record nothing.
          if (e.type === 'setup-done') {
            daemon = await onNode(i, 'edge-b', async (c) => ({
              listeners: (await c.check(['sh', '-c', 'ss -Hltnp | grep rsync'])).stdout,
              config: (await c.check(['sh', '-c', 'cat /run/followme-rsyncd-*/rsyncd.conf'])).stdout,
            }));
          }
          if (e.type === 'step' && e.step === 'page-server-started' && e.iteration === 1) {
            pageServer = (await onNode(i, 'edge-b', (c) => c.check(['sh', '-c', 'ss -Hltnp | grep criu']))).stdout;
          }
        },
      });
      expectSoundRecord(r, strategy, 2);
      // The rsync daemon listens on edge-b's testbed address only and exports the two directories the migration fills.
      expect(
        daemon.listeners
          .trim()
          .split('\n')
          .map((l) => l.split(/\s+/)[3]),
      ).toEqual([expect.stringMatching(new RegExp(`^${ipOf(i, 'edge-b').replace(/\./g, '\\.')}:\\d+$`))]);
      expect(daemon.config.match(/^path = .*$/gm)).toEqual([`path = /tmp/followme-migrations/${r.id}`, `path = /var/lib/lxc/${NAME}`]);
      expect(daemon.config).toContain(`hosts allow = ${ipOf(i, 'edge-a')}\n`);
      if (strategy === 'diskless')
        expect(
          pageServer
            .trim()
            .split('\n')
            .map((l) => l.split(/\s+/)[3]),
        ).toEqual([expect.stringMatching(new RegExp(`^${ipOf(i, 'edge-b').replace(/\./g, '\\.')}:\\d+$`))]);
      expect(events).toContain('phase-start');
      expect(r.phases.map((p) => p.kind)).toEqual(
        strategy === 'tmpfs'
          ? ['rootfs-copy', 'pre-dump', 'pre-dump-copy', 'pre-dump', 'pre-dump-copy', 'final-dump', 'final-copy', 'restore']
          : ['rootfs-copy', 'pre-dump', 'pre-dump', 'final-dump', 'final-copy', 'restore'],
      );
      expect(r.phases[0]!.bytes).toBeGreaterThan(10_000_000); // the rootfs went across
      expect(await stateOn(i, 'edge-b', NAME)).toBe('RUNNING');
      expect(await stateOn(i, 'edge-a', NAME)).toBeUndefined(); // stopped and removed
      const onB = await expectCountContinues(ip, before);

      // And back, through the CLI this time: the record lands in the JSON-lines file.
      const out = join(scratchDir('followme-rec-'), 'migrations.jsonl');
      const cli = await followme([
        'migrate',
        '--inventory',
        inject('twoVmInventory'),
        '--strategy',
        strategy,
        '--from',
        'edge-b',
        '--to',
        'edge-a',
        '--container',
        NAME,
        '--out',
        out,
      ]);
      expect(cli.exitCode, cli.stderr).toBe(0);
      expect(cli.stderr).toMatch(/final dump.*: \d+\.\d+ s/);
      expect(cli.stdout).toContain('downtime');
      const back = validateRecord(JSON.parse(readFileSync(out, 'utf8').trim()));
      expectSoundRecord(back, strategy, 2);
      expect(await stateOn(i, 'edge-a', NAME)).toBe('RUNNING');
      expect(await stateOn(i, 'edge-b', NAME)).toBeUndefined();
      last = await expectCountContinues(ip, onB);
    });
  }

  it('rollback: the page server killed before the final dump leaves the container running on edge-a, state intact', async () => {
    const i = inv();
    const before = await count(ip);
    let killed = '';
    const err = await migrate({
      inventory: i,
      strategy: 'diskless',
      container: NAME,
      from: 'edge-a',
      to: 'edge-b',
      onEvent: async (e) => {
        if (e.type === 'step' && e.step === 'page-server-started' && e.iteration === 'dump') {
          const r = await onNode(i, 'edge-b', (c) => c.run(['sh', '-c', 'kill -9 "$(cat /tmp/followme-migrations/*/dump/page-server.pid)" && echo killed']));
          killed = r.stdout.trim();
        }
      },
    }).catch((e: unknown) => e);
    expect(killed).toBe('killed');
    expect(err).toBeInstanceOf(MigrationFailedError);
    const rec = (err as MigrationFailedError).record;
    expect(rec.outcome).toBe('rolled-back');
    expect(rec.error?.phase).toMatch(/^final dump/);
    expect(rec.error?.message).toMatch(/criu dump/);
    expect(await stateOn(i, 'edge-a', NAME)).toBe('RUNNING');
    await onNode(i, 'edge-b', async (c) => {
      expect(await containerState(c, NAME)).toBeUndefined();
      expect(
        (await c.run(['sh', '-c', 'ls -A /tmp/followme-migrations /var/lib/lxc; pgrep -f "[c]riu page-server|[r]sync --daemon" || true'])).stdout.trim(),
      ).toBe('/tmp/followme-migrations:\n\n/var/lib/lxc:');
    });
    last = await expectCountContinues(ip, before);
  });

  it('rollback: a restore that fails on edge-b brings the container back on edge-a from its final dump', async () => {
    const i = inv();
    const before = await count(ip);
    const err = await migrate({
      inventory: i,
      strategy: 'tmpfs',
      container: NAME,
      from: 'edge-a',
      to: 'edge-b',
      predumps: 1,
      onEvent: async (e) => {
        // The destination's copy of the final dump loses its process tree.
        if (e.type === 'phase-start' && e.kind === 'restore')
          await onNode(i, 'edge-b', (c) => c.check(['sh', '-c', 'rm /tmp/followme-migrations/*/dump/pstree.img']));
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationFailedError);
    const rec = (err as MigrationFailedError).record;
    expect(rec.outcome).toBe('rolled-back');
    expect(rec.error?.phase).toBe('restore');
    expect(rec.error?.rollback).toMatch(/restored on edge-a/);
    expect(await stateOn(i, 'edge-a', NAME)).toBe('RUNNING');
    expect(await stateOn(i, 'edge-b', NAME)).toBeUndefined();
    last = await expectCountContinues(ip, before);
  });

  it('refuses bad input before touching anything', async () => {
    const i = inv();
    await expect(migrate({ inventory: i, strategy: 'teleport', container: NAME, from: 'edge-a', to: 'edge-b' })).rejects.toThrow(
      /--strategy: unknown strategy "teleport"; allowed: tmpfs, diskless, shared/,
    );
    await expect(migrate({ inventory: i, strategy: 'shared', container: NAME, from: 'edge-a', to: 'edge-b' })).rejects.toThrow(
      /needs a testbed with an NFS server/,
    );
    await expect(migrate({ inventory: i, strategy: 'tmpfs', container: 'nope', from: 'edge-a', to: 'edge-b' })).rejects.toThrow(
      /container nope is absent on edge-a/,
    );
    const cli = await followme([
      'migrate',
      '--inventory',
      inject('twoVmInventory'),
      '--strategy',
      'tmpfs',
      '--from',
      'edge-a',
      '--to',
      'edge-c',
      '--container',
      NAME,
    ]);
    expect(cli.exitCode).toBe(2);
    expect(cli.stderr).toContain(`--to: "edge-c" is not an edge of testbed ${i.prefix}; edges: edge-a, edge-b`);
    expect(await stateOn(i, 'edge-a', NAME)).toBe('RUNNING');
  });

  it('the restored container is an ordinary LXC container: lxc-stop stops it', async () => {
    const i = inv();
    await onNode(i, 'edge-a', async (c) => {
      await c.check(['lxc-stop', '-n', NAME, '-t', '10'], { timeoutMs: 60_000 });
      expect(await containerState(c, NAME)).toBe('STOPPED');
    });
  });
});
