// Two edges of the shared testbed (the global setup's view of the corridor): both answer over
// SSH with their pinned host keys and can checkpoint (criu check) and run LXC.
import { describe, expect, inject, it } from 'vitest';
import { readInventory } from '../../common/inventory.js';
import { lxcCheckconfigProblems } from '../../provision/testbed/readiness.js';
import { HostKeyMismatchError, SshConnection } from '../../common/ssh/transport.js';
import { onNode } from './ssh.js';
import { virsh } from '../../provision/libvirt/virsh.js';

const inv = () => readInventory(inject('twoVmInventory'));

describe('two edges of the testbed', () => {
  it('the inventory says what runs: each domain running with the inventory MAC, each node holding the inventory address on br0', async () => {
    const i = inv();
    expect(i.nodes.map((n) => n.role)).toEqual(['edge', 'edge']);
    for (const n of i.nodes) {
      // Through followme's seam to libvirt: a node on another host is reached only at that host's pinned key.
      expect((await virsh(n.libvirtUri, ['domstate', n.domain])).stdout.trim()).toBe('running');
      const nics = (await virsh(n.libvirtUri, ['domiflist', n.domain])).stdout;
      expect(nics.trim().split(/\s+/).at(-1)).toBe(n.mac);
      await onNode(i, n.name, async (c) => {
        const addr = (await c.check(['ip', '-4', '-o', 'addr', 'show', 'dev', 'br0'])).stdout;
        expect(addr).toContain(` inet ${n.ip}/${i.subnet.split('/')[1]} `);
        expect((await c.check(['cat', '/sys/class/net/br0/address'])).stdout.trim()).toBe(n.mac);
      });
    }
  });

  it.each(['edge-a', 'edge-b'])('%s: criu check passes and LXC is usable', async (name) => {
    await onNode(inv(), name, async (c) => {
      expect((await c.run(['hostname'])).stdout.trim()).toBe(`${inv().prefix}-${name}`);
      const criu = await c.run(['criu', 'check'], { timeoutMs: 120_000 });
      expect(criu.exitCode, criu.stderr).toBe(0);
      expect((await c.check(['criu', '--version'])).stdout).toMatch(/Version: 4\./);
      const cfg = await c.check(['lxc-checkconfig']);
      expect(lxcCheckconfigProblems(cfg.stdout)).toEqual([]);
      expect((await c.check(['lxc-ls', '--version'])).stdout).toMatch(/^6\./);
      expect((await c.run(['lxc-ls', '--fancy'])).exitCode).toBe(0);
      // The controller reaches the other edge's address from here: edges see each other.
      const other = inv().nodes.find((n) => n.name !== name)!;
      expect((await c.run(['ping', '-c', '1', '-W', '5', other.ip])).exitCode).toBe(0);
    });
  });

  it('refuses a node whose host key is not the pinned one', async () => {
    const i = inv();
    const [a, b] = i.nodes;
    const target = { node: a!.name, host: a!.ip, user: a!.sshUser, privateKeyPath: a!.privateKeyPath, hostPublicKey: b!.hostPublicKey };
    await expect(SshConnection.connect(target)).rejects.toBeInstanceOf(HostKeyMismatchError);
  });

  it('runs every domain with the same CPU model and domain type, from the followme metadata', async () => {
    const xmls = await Promise.all(inv().nodes.map((n) => virsh(n.libvirtUri, ['dumpxml', '--inactive', n.domain])));
    const types = xmls.map((x) => /<domain type='(\w+)'/.exec(x.stdout)?.[1]);
    const cpus = xmls.map((x) => /<cpu[^>]*>[\s\S]*?<\/cpu>|<cpu[^>]*\/>/.exec(x.stdout)?.[0]);
    expect(new Set(types).size).toBe(1);
    expect(new Set(cpus).size).toBe(1);
    for (const x of xmls) expect(x.stdout).toContain(`<fm:prefix>${inv().prefix}</fm:prefix>`);
  });
});
