// The corridor testbed (shared, from the global setup): three edges on a
// road and the NFS node; the server exports the share to the edges only, and
// a file written on edge-a's mount reads back on edge-c.
import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { readInventory } from '../../common/inventory.js';
import { onNode } from './ssh.js';

const inv = () => readInventory(inject('corridorInventory'));

describe('corridor testbed', () => {
  it('has three edges and an NFS server', () => {
    const i = inv();
    expect(i.nodes.map((n) => `${n.name}/${n.role}`)).toEqual(['edge-a/edge', 'edge-b/edge', 'edge-c/edge', 'nfs/nfs']);
    expect(i.nfs).toEqual({ server: '10.77.30.13', export: '/srv/followme', mountPoint: '/mnt/followme' });
  });

  it('shares files between the edges through the NFS server', async () => {
    const i = inv();
    const token = randomBytes(16).toString('hex');
    const file = `${i.nfs!.mountPoint}/handover-${token}.txt`;
    await onNode(i, 'edge-a', async (c) => {
      await c.check(['sh', '-c', 'printf %s "$1" > "$2" && sync', 'sh', token, file]);
    });
    const read = await onNode(i, 'edge-c', (c) => c.check(['cat', file]));
    expect(read.stdout).toBe(token);
    // It is really on the server's export, not a local directory on the edges.
    const onServer = await onNode(i, 'nfs', (c) => c.check(['cat', `${i.nfs!.export}/handover-${token}.txt`]));
    expect(onServer.stdout).toBe(token);
    await onNode(i, 'edge-c', (c) => c.check(['rm', '-f', file]));
  });

  it('exports the share to the three edges only, not to the subnet', async () => {
    const exports = await onNode(inv(), 'nfs', (c) => c.check(['exportfs', '-s']));
    const clients = exports.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/)[1]?.replace(/\(.*$/, ''));
    expect(clients.sort()).toEqual(['10.77.30.10', '10.77.30.11', '10.77.30.12']);
    expect(exports.stdout).not.toContain('10.77.30.0/24');
  });

  it.each(['edge-a', 'edge-b', 'edge-c'])('%s: the share is an NFS mount and criu check passes', async (name) => {
    await onNode(inv(), name, async (c) => {
      const m = await c.check(['findmnt', '-n', '-t', 'nfs4,nfs', '-o', 'FSTYPE,SOURCE', '/mnt/followme']);
      expect(m.stdout.trim()).toMatch(/^nfs4?\s+10\.77\.30\.13:\/srv\/followme$/);
      expect((await c.run(['criu', 'check'], { timeoutMs: 120_000 })).exitCode).toBe(0);
    });
  });
});
