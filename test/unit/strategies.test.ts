import { describe, expect, it } from 'vitest';
import { strategyNamed } from '../../migration/strategies/index.js';
import { iterationDir, iterationDirs, parentOf, workDirOf } from '../../migration/engine/types.js';
import { portsFor, rootfsPathOf } from '../../migration/engine/setup.js';
import { migrate, migrationId } from '../../migration/engine/migrate.js';
import { ConfigError } from '../../common/errors.js';
import { validateRecord } from '../../migration/record/validate.js';
import { type ScriptedTestbed, scriptedTestbed } from './scripted-edge.js';
import type { Inventory } from '../../common/inventory.js';
import { lxcConfig } from '../../migration/lxc/commands.js';

const kinds = (name: string, n: number) =>
  strategyNamed(name)
    .outline(n)
    .map((p) => `${p.kind}${p.iteration ? ` ${p.iteration}` : ''}`);

const inventory: Inventory = {
  version: 1,
  prefix: 'fmtwo',
  subnet: '10.77.10.0/24',
  containerAddresses: [],
  nodes: ['edge-a', 'edge-b'].map((name, i) => ({
    name,
    role: 'edge' as const,
    ip: `10.77.10.${10 + i}`,
    mac: `52:54:00:00:00:0${i}`,
    libvirtUri: 'qemu:///system',
    domain: `fmtwo-${name}`,
    sshUser: 'root',
    hostPublicKey: 'ssh-ed25519 AAAA',
    privateKeyPath: '/nonexistent/key',
    consoleLog: '/x',
  })),
};

describe('strategies', () => {
  it('tmpfs: rootfs, then each pre-dump and its copy, the final dump, its copy, restore', () => {
    expect(kinds('tmpfs', 2)).toEqual(['rootfs-copy', 'pre-dump 1', 'pre-dump-copy 1', 'pre-dump 2', 'pre-dump-copy 2', 'final-dump', 'final-copy', 'restore']);
    expect(kinds('tmpfs', 0)).toEqual(['rootfs-copy', 'final-dump', 'final-copy', 'restore']);
  });

  it('diskless: pre-dumps stream to the page server, so no copy phase per pre-dump', () => {
    expect(kinds('diskless', 2)).toEqual(['rootfs-copy', 'pre-dump 1', 'pre-dump 2', 'final-dump', 'final-copy', 'restore']);
    expect(
      strategyNamed('diskless')
        .outline(1)
        .filter((p) => p.pagesLeaveSource),
    ).toHaveLength(2);
  });

  it('shared: nothing copied', () => {
    expect(kinds('shared', 3)).toEqual(['pre-dump 1', 'pre-dump 2', 'pre-dump 3', 'final-dump', 'restore']);
    expect(() => workDirOf(strategyNamed('shared'), inventory, 'x')).toThrow(/shared storage needs a testbed with an NFS server \(stack three-vm-nfs\)/);
    expect(workDirOf(strategyNamed('shared'), { ...inventory, nfs: { server: 'x', export: '/srv/followme', mountPoint: '/mnt/followme' } }, 'id1')).toBe(
      '/mnt/followme/migrations/id1',
    );
  });

  it('names allowed strategies when given an unknown one', () => {
    expect(() => strategyNamed('teleport')).toThrow(ConfigError);
    expect(() => strategyNamed('teleport')).toThrow('--strategy: unknown strategy "teleport"; allowed: tmpfs, diskless, shared, adaptive, lean, sharedlean');
  });

  it('links each iteration to the one before, relative to its own directory', () => {
    expect(iterationDirs({ workDir: '/w' }, 2)).toEqual(['/w/pre-1', '/w/pre-2', '/w/dump']);
    expect(iterationDir({ workDir: '/w' }, 'dump')).toBe('/w/dump');
    expect(parentOf(0)).toBeUndefined();
    expect(parentOf(2)).toBe('../pre-2');
  });
});

describe('engine input', () => {
  it('rejects bad flags before connecting to anything', async () => {
    const base = { inventory, strategy: 'tmpfs', container: 'c1', from: 'edge-a', to: 'edge-b' };
    await expect(migrate({ ...base, predumps: -1 })).rejects.toThrow('--predumps: must be a whole number from 0 to 20, got -1');
    await expect(migrate({ ...base, to: 'edge-a' })).rejects.toThrow('--from and --to are both "edge-a"');
    await expect(migrate({ ...base, to: 'edge-c' })).rejects.toThrow('--to: "edge-c" is not an edge of testbed fmtwo; edges: edge-a, edge-b');
    await expect(migrate({ ...base, container: '../etc' })).rejects.toThrow(/--container: "..\/etc" is not a container name/);
  });

  it('reads the rootfs from an LXC config, spreads ports by id, names migrations sortably', () => {
    expect(rootfsPathOf('lxc.arch = linux64\nlxc.rootfs.path = dir:/var/lib/lxc/c1/rootfs\n')).toBe('/var/lib/lxc/c1/rootfs');
    expect(rootfsPathOf('lxc.arch = linux64\n')).toBeUndefined();
    const p = portsFor('a');
    expect(p.receiver).toBeGreaterThanOrEqual(20000);
    expect(p.pageServer).toBeLessThan(40000);
    expect(portsFor('a')).toEqual(p);
    expect(migrationId('tmpfs', 'c1', new Date('2026-11-26T10:16:09.123Z'))).toMatch(/^20261126T101609Z-tmpfs-c1-[0-9a-f]{6}$/);
  });
});

/** c1 moved edge-a → edge-b by `strategy` with one pre-dump over scripted edges; its record, checked. */
async function scriptedMove(tb: ScriptedTestbed, strategy: string, inventory: Inventory = tb.inventory) {
  return validateRecord(
    await migrate({ inventory, strategy, container: 'c1', from: 'edge-a', to: 'edge-b', predumps: 1, connect: tb.connect, journalDir: tb.journalDir }),
  );
}

describe('lean', () => {
  it('is diskless with the fixed costs trimmed: nftables lock, no --force-irmap without inotify, one final copy of images and rootfs changes', async () => {
    const tb = scriptedTestbed();
    const r = await scriptedMove(tb, 'lean');
    expect(r.phases.map((p) => p.name)).toEqual(['rootfs copy', 'pre-dump 1 (page server)', 'final dump (page server)', 'final copy', 'restore']);
    const source = tb.edges.get('edge-a')!;
    // Set-up warms CRIU's kernel cache on both edges, outside Ψ.
    for (const e of ['edge-a', 'edge-b']) expect(tb.edges.get(e)!.kinds, e).toContain('warm-kdat');
    // The rootfs copy notes its start first, for the final sync of the changes alone.
    expect(r.phases[0]!.commands.map((c) => c.kind)).toEqual(['mark-rootfs', 'rsync-rootfs']);
    expect(r.phases.find((p) => p.kind === 'final-copy')!.commands.map((c) => c.kind)).toEqual(['rsync-final']);
    const dump = source.commands.find((c) => c.startsWith('criu-dump:'))!;
    expect(dump).toContain('--network-lock nftables');
    expect(dump).not.toContain('--force-irmap');
    expect(source.commands.find((c) => c.startsWith('criu-pre-dump:'))).not.toContain('--pre-dump-mode');
    // The network namespace: left out of the dump, prepared on the destination in set-up (before the first phase), joined by the
    // restore, and its name dropped once the container runs there.
    expect(dump).toContain('--external net[4026532236]:followme-net');
    const dest = tb.edges.get('edge-b')!;
    const order = (kind: string) => dest.kinds.indexOf(kind as never);
    expect(order('prepare-network')).toBeGreaterThan(-1);
    expect(order('prepare-network')).toBeLessThan(order('criu-page-server'));
    expect(dest.commands.find((c) => c.startsWith('lxc-restore:'))).toContain('restore-prepared followme-c1');
    expect(order('forget-network')).toBeGreaterThan(order('lxc-restore'));
    expect(source.kinds).not.toContain('prepare-network');
  });
  it('rolls a failed restore back into a network prepared on the source, and drops the destination’s', async () => {
    let restores = 0;
    // The destination's restore fails; the rollback's, on the source, succeeds.
    const tb = scriptedTestbed((kind, argv) => {
      if (kind === 'lxc-restore' && restores++ === 0) return { exitCode: 1, stderr: 'criu failed' };
      // The final dump finished, and its pages wait on the destination to be copied back.
      return kind === 'path-exists' && /\/dump(\/inventory\.img)?$/.test(argv[2] ?? '') ? { exitCode: 0 } : undefined;
    });
    await expect(scriptedMove(tb, 'lean')).rejects.toMatchObject({ record: { outcome: 'rolled-back' } });
    const source = tb.edges.get('edge-a')!;
    const dest = tb.edges.get('edge-b')!;
    expect(source.commands.find((c) => c.startsWith('lxc-restore:'))).toContain('restore-prepared followme-c1');
    expect(source.kinds.indexOf('forget-network')).toBeGreaterThan(source.kinds.indexOf('lxc-restore'));
    expect(dest.kinds).toContain('forget-network');
    expect([...tb.running['edge-a']!]).toEqual(['c1']);
  });
});

describe('sharedlean', () => {
  it('leaves the rootfs on the share and keeps the images in tmpfs: pages to the page server, the small images copied, no rootfs sync', async () => {
    const mount = '/mnt/followme';
    const tb = scriptedTestbed((kind, argv) => {
      if (kind === 'fs-type') return { stdout: argv.at(-1) === mount ? 'nfs\n' : 'tmpfs\n' };
      if (kind === 'read-config')
        return {
          stdout: Buffer.from(
            lxcConfig({ name: 'c1', rootfs: `${mount}/c1/rootfs`, ip: '10.77.10.250', prefixLength: 24, mac: '52:54:00:aa:bb:cc', bridge: 'br0' }),
          ).toString('base64'),
        };
      return undefined;
    });
    const inventory = { ...tb.inventory, nfs: { server: 'nfs', export: '/srv/followme', mountPoint: mount } };
    const r = await scriptedMove(tb, 'sharedlean', inventory);
    expect(r.phases.map((p) => p.name)).toEqual(['pre-dump 1 (page server)', 'final dump (page server)', 'final copy', 'restore']);
    expect(r.phases.find((p) => p.kind === 'final-copy')!.commands.map((c) => c.label)).toEqual(['rsync images dump']);
    const source = tb.edges.get('edge-a')!;
    const dest = tb.edges.get('edge-b')!;
    expect(source.commands.find((c) => c.startsWith('criu-dump:'))).toMatch(/--page-server .*--network-lock nftables|--network-lock nftables.*--page-server/);
    // The images live in tmpfs on both edges; the destination gets the config, not a copy of the rootfs.
    expect(dest.commands.filter((c) => c.startsWith('mkdir: ')).join('\n')).toContain(`/tmp/followme-migrations/${r.id}/dump`);
    expect(dest.kinds).toContain('write-file');
    expect(dest.commands.find((c) => c.startsWith('write-file:'))).toContain('/var/lib/lxc/c1/config');
    // After success the source keeps its shared rootfs: only its config directory goes, never lxc-destroy.
    expect(source.kinds).not.toContain('lxc-destroy');
    expect(source.commands.find((c) => c.startsWith('remove-config-dir:'))).toContain('/var/lib/lxc/c1');
  });
});
