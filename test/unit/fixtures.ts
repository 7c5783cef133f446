// Shared inputs for unit tests: a topology and the artefacts a planner needs,
// with fixed values (no I/O).
import type { Topology } from '../../provision/topology/schema.js';
import type { GuestImage } from '../../provision/plan/plan.js';
import type { TestbedKeys } from '../../provision/testbed/keys.js';

export function twoVm(overrides: Partial<Topology> = {}): Topology {
  return {
    prefix: 'fmtest',
    subnet: '10.77.10.0/24',
    image: { kind: 'debian', suite: 'trixie' },
    nodes: [
      { name: 'edge-a', role: 'edge' },
      { name: 'edge-b', role: 'edge' },
    ],
    ...overrides,
  };
}

export function threeVmNfs(): Topology {
  return twoVm({
    prefix: 'fmnfs',
    subnet: '10.77.20.0/24',
    nodes: [
      { name: 'edge-a', role: 'edge' },
      { name: 'edge-b', role: 'edge' },
      { name: 'nfs', role: 'nfs', memoryMiB: 1024 },
    ],
  });
}

export const image: GuestImage = {
  key: 'ab'.repeat(32),
  rootfs: '/cache/images/abab/rootfs.qcow2',
  kernel: '/cache/images/abab/vmlinuz',
  initrd: '/cache/images/abab/initrd.img',
  cmdline: 'root=/dev/vda rw console=ttyS0,115200',
};

export function keysFor(t: Topology): TestbedKeys {
  return {
    client: { privateKeyPath: '/state/keys/id_ed25519', publicKey: 'ssh-ed25519 AAAAclient controller' },
    hosts: Object.fromEntries(
      t.nodes.map((n) => [n.name, { privateKeyPath: `/state/keys/${n.name}_key`, publicKey: `ssh-ed25519 AAAA${n.name} root@x` }]),
    ),
  };
}
