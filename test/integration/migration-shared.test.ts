// The shared strategy on the corridor: the container's rootfs lives on the
// NFS share, pre-dumps and the dump are written into it, the destination
// restores from it. There and back, then a failing restore rolled back.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readInventory, type Inventory } from '../../common/inventory.js';
import { deployContainer, removeContainer, type SharedStorage } from '../../migration/container.js';
import { migrate, MigrationFailedError } from '../../migration/engine/migrate.js';
import { SshConnection } from '../../common/ssh/transport.js';
import { sshTarget } from '../../common/ssh/target.js';
import { onNode } from './ssh.js';
import { count, countAtLeast, expectCountContinues, expectSoundRecord, stateOn } from './migration-helpers.js';

const inv = () => readInventory(inject('corridorInventory'));
const NAME = 'mig3';

async function withShare<T>(i: Inventory, fn: (s: SharedStorage) => Promise<T>): Promise<T> {
  const server = i.nodes.find((n) => n.role === 'nfs')!;
  return SshConnection.with(sshTarget(i, server), (c) => fn({ server: c, exportDir: i.nfs!.export, mountPoint: i.nfs!.mountPoint }));
}

describe('shared strategy on the corridor', () => {
  let ip = '';

  beforeAll(async () => {
    const i = inv();
    const addr = i.containerAddresses[2]!;
    ip = addr.ip;
    await withShare(i, (shared) =>
      onNode(i, 'edge-a', (c) =>
        deployContainer(
          c,
          { name: NAME, ip: addr.ip, prefixLength: Number(i.subnet.split('/')[1]), mac: addr.mac, bridge: 'br0' },
          { template: 'blank' },
          { shared },
        ),
      ),
    );
    await countAtLeast(ip, 100);
  });

  afterAll(async () => {
    const i = inv();
    await withShare(i, async (shared) => {
      await onNode(i, 'edge-b', (c) => removeContainer(c, NAME));
      await onNode(i, 'edge-a', (c) => removeContainer(c, NAME, { shared }));
    });
  });

  it('edge-a → edge-b and back with nothing copied; the count goes on at the same address', async () => {
    const i = inv();
    let before = await count(ip);
    for (const [from, to] of [
      ['edge-a', 'edge-b'],
      ['edge-b', 'edge-a'],
    ] as const) {
      const r = await migrate({ inventory: i, strategy: 'shared', container: NAME, from, to });
      expectSoundRecord(r, 'shared', 2);
      expect(r.phases.map((p) => p.kind)).toEqual(['pre-dump', 'pre-dump', 'final-dump', 'restore']);
      expect(r.iterations[0]!.imagesDir.startsWith(`${i.nfs!.mountPoint}/migrations/`)).toBe(true);
      expect(await stateOn(i, to, NAME)).toBe('RUNNING');
      expect(await stateOn(i, from, NAME)).toBeUndefined();
      before = await expectCountContinues(ip, before);
    }
    // The rootfs stayed on the share all along; the images are gone from it.
    await onNode(i, 'nfs', async (c) => {
      expect((await c.run(['test', '-x', `${i.nfs!.export}/containers/${NAME}/rootfs/usr/local/sbin/followme-init`])).exitCode).toBe(0);
      expect((await c.check(['sh', '-c', 'ls -A "$0"/migrations', i.nfs!.export])).stdout.trim()).toBe('');
    });
  });

  it('rollback: a restore that fails on edge-b leaves the container running on edge-a', async () => {
    const i = inv();
    const before = await count(ip);
    const err = await migrate({
      inventory: i,
      strategy: 'shared',
      container: NAME,
      from: 'edge-a',
      to: 'edge-b',
      onEvent: async (e) => {
        // Make the destination unable to restore: its copy of the config names a bridge it lacks.
        // (The images are on the share, which the source needs intact.)
        if (e.type === 'phase-start' && e.kind === 'restore') {
          await onNode(i, 'edge-b', (c) => c.check(['sed', '-i', 's/^lxc.net.0.link = .*/lxc.net.0.link = fm-nosuchbr/', `/var/lib/lxc/${NAME}/config`]));
        }
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MigrationFailedError);
    const rec = (err as MigrationFailedError).record;
    expect(rec.outcome).toBe('rolled-back');
    expect(rec.error?.phase).toBe('restore');
    expect(await stateOn(i, 'edge-a', NAME)).toBe('RUNNING');
    expect(await stateOn(i, 'edge-b', NAME)).toBeUndefined();
    await expectCountContinues(ip, before);
  });
});
