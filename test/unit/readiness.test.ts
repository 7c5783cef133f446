import { describe, expect, it } from 'vitest';
import { waitFor, NodeDownError } from '../../provision/testbed/readiness.js';
import { ReadinessTimeoutError } from '../../common/errors.js';
import type { InventoryNode } from '../../common/inventory.js';

const node: InventoryNode = {
  name: 'edge-a',
  role: 'edge',
  ip: '10.77.10.10',
  mac: '52:54:00:00:00:01',
  libvirtUri: 'qemu:///system',
  domain: 'fmtest-edge-a',
  sshUser: 'root',
  hostPublicKey: 'ssh-ed25519 AAAA',
  privateKeyPath: '/k',
  consoleLog: '/var/log/libvirt/qemu/fmtest-edge-a-serial.log',
};

describe('readiness stages', () => {
  it('retries until the check passes and reports the stage', async () => {
    let calls = 0;
    const lines: string[] = [];
    const elapsed = await waitFor(
      node,
      'ssh',
      async () => (++calls < 3 ? 'not yet' : true),
      (l) => lines.push(l),
      { timeoutMs: 5000, intervalMs: 40 },
    );
    expect(calls).toBe(3);
    // Two waits of one interval each, and far from the time limit.
    expect(elapsed).toBeGreaterThanOrEqual(79);
    expect(elapsed).toBeLessThan(5000);
    expect(lines.at(-1)).toMatch(/^edge-a: ssh ok \(/);
  });

  it('gives up after its time, naming the VM, the stage, the last error and the console log', async () => {
    let calls = 0;
    const err = await waitFor(
      node,
      'address',
      async () => {
        calls++;
        throw new Error('no lease for 52:54:00:00:00:01');
      },
      () => {},
      { timeoutMs: 50, intervalMs: 10 },
    ).catch((e) => e);
    expect(err).toBeInstanceOf(ReadinessTimeoutError);
    expect(err.message).toBe(
      'edge-a: stage "address" did not pass within 0 s (last error: no lease for 52:54:00:00:00:01); serial console log: /var/log/libvirt/qemu/fmtest-edge-a-serial.log',
    );
    expect(calls).toBeGreaterThan(1);
    expect(calls).toBeLessThanOrEqual(6); // bounded in count as well as time
  });

  it('stops at once when the VM is not running', async () => {
    let calls = 0;
    const down = new NodeDownError('edge-a: domain fmtest-edge-a is paused, not running');
    await expect(
      waitFor(
        node,
        'address',
        async () => {
          calls++;
          throw down;
        },
        () => {},
        { timeoutMs: 10_000, intervalMs: 10 },
      ),
    ).rejects.toBe(down);
    expect(calls).toBe(1);
  });
});
