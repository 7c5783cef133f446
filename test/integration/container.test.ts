// The blank container on a real edge (two-vm): deployed from the guest's
// template, bridged onto the testbed network at a fixed address, reachable
// from the controller, counting in memory; then removed.
import { describe, expect, inject, it } from 'vitest';
import { readInventory } from '../../common/inventory.js';
import { deployContainer, containerState, removeContainer } from '../../migration/container.js';
import { onNode } from './ssh.js';
import { httpGetEventually } from './http.js';
import { sleep } from '../../common/poll.js';

const inv = () => readInventory(inject('twoVmInventory'));

describe('blank container', () => {
  it('runs on edge-a at its own address, answers the controller and counts on', async () => {
    const i = inv();
    const addr = i.containerAddresses[0]!;
    const prefixLength = Number(i.subnet.split('/')[1]);
    await onNode(i, 'edge-a', async (c) => {
      try {
        await deployContainer(c, { name: 'blank-it', ip: addr.ip, prefixLength, mac: addr.mac, bridge: 'br0' }, { template: 'blank' });
        expect(await containerState(c, 'blank-it')).toBe('RUNNING');
        const first = Number((await httpGetEventually(addr.ip, '/count')).body);
        await sleep(2000);
        const second = Number((await httpGetEventually(addr.ip, '/count')).body);
        expect(first).toBeGreaterThan(0);
        expect(second).toBeGreaterThan(first);
        // Its init is the followme counter, not systemd.
        const ps = await c.check(['lxc-attach', '-n', 'blank-it', '--', 'cat', '/proc/1/cmdline']);
        expect(ps.stdout).toContain('followme-init');
      } finally {
        await removeContainer(c, 'blank-it');
      }
      expect(await containerState(c, 'blank-it')).toBeUndefined();
    });
  });
});
