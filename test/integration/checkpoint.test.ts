// Checkpoint and restore of the blank container in place on a real edge
// (two-vm, edge-b): CRIU's statistics are read back, and the in-memory count
// goes on after the restore instead of starting over.
import { describe, expect, inject, it } from 'vitest';
import { readInventory } from '../../common/inventory.js';
import { containerState, deployBlank, removeContainer } from '../../migration/container.js';
import { checkpointAndStop, restore } from '../../migration/checkpoint.js';
import { onNode } from './ssh.js';
import { httpGetEventually } from './http.js';

const inv = () => readInventory(inject('twoVmInventory'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('checkpoint and restore in place', () => {
  it('dumps the running container, restores it, and its count continues', async () => {
    const i = inv();
    const addr = i.containerAddresses[1]!;
    const count = async () => Number((await httpGetEventually(addr.ip, '/count')).body);
    await onNode(i, 'edge-b', async (c) => {
      try {
        await deployBlank(c, { name: 'ckpt-it', ip: addr.ip, prefixLength: Number(i.subnet.split('/')[1]), mac: addr.mac, bridge: 'br0' });
        // Let the count grow well past what a restarted counter could reach in the few seconds below.
        for (let n = 0; n < 60 && (await count()) < 100; n++) await sleep(1000);
        const before = await count();
        expect(before).toBeGreaterThanOrEqual(100);

        const dump = await checkpointAndStop(c, 'ckpt-it', '/tmp/followme-ckpt-it');
        expect(await containerState(c, 'ckpt-it')).toBe('STOPPED');
        expect(dump.stats.pagesWritten).toBeGreaterThan(0);
        expect(dump.stats.frozenTimeUs).toBeGreaterThan(0);
        expect(dump.stats.pagesScanned).toBeGreaterThanOrEqual(dump.stats.pagesWritten);

        const back = await restore(c, 'ckpt-it', '/tmp/followme-ckpt-it');
        expect(back.stats.pagesRestored).toBe(dump.stats.pagesWritten);
        const after = await count();
        expect(after).toBeGreaterThanOrEqual(before);
        await sleep(1500);
        expect(await count()).toBeGreaterThan(after);
        expect(await containerState(c, 'ckpt-it')).toBe('RUNNING');
      } finally {
        await removeContainer(c, 'ckpt-it');
        await c.run(['rm', '-rf', '/tmp/followme-ckpt-it']);
      }
    });
  });
});
