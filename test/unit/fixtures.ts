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

/** Real ed25519 public keys (their private halves were thrown away): the inventory schema parses them. */
export const PUBLIC_KEYS = {
  client: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIuLHkNytRjLhGk9JDR46fbONpFu8aaeME0l28rlr1Mu controller',
  hosts: [
    'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFML52Jq94zKjuJ5rjb22qzEpYLPTI34Lmwc9DMNe8fW',
    'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAINi5gykPo6a0AmywCZeDIrXtaW/mfOcfo1ESqe58q1MB',
    'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB9CfxNE5HOWZWQ1ffZ4bn62nSfPVgp6p4rmZw15eitN',
    'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMGsPCNC/+CuxIvkRujD1yPlPUGwdl0aH23In/vqIX5h',
  ],
};

export function keysFor(t: Topology): TestbedKeys {
  return {
    client: { privateKeyPath: '/state/keys/id_ed25519', publicKey: PUBLIC_KEYS.client },
    hosts: Object.fromEntries(
      t.nodes.map((n, i) => [
        n.name,
        { privateKeyPath: `/state/keys/${n.name}_key`, publicKey: `${PUBLIC_KEYS.hosts[i % PUBLIC_KEYS.hosts.length]} root@${n.name}` },
      ]),
    ),
  };
}
