// followme container deploy|remove: the blank container on one edge.
import { readInventory, type Inventory } from '../../common/inventory.js';
import { ConfigError } from '../../common/errors.js';
import { SshConnection } from '../../common/ssh/transport.js';
import { sshTarget } from '../../common/ssh/target.js';
import { deployBlank, removeContainer } from '../../migration/container.js';
import { sharedMount } from '../../migration/strategies/shared.js';
import { log } from '../output.js';

export interface ContainerCliOptions {
  inventory: string;
  node: string;
  name: string;
  address?: string;
  shared?: boolean;
}

function nodeOf(inv: Inventory, name: string) {
  const n = inv.nodes.find((x) => x.name === name && x.role === 'edge');
  if (!n) throw new ConfigError(`--node: "${name}" is not an edge of testbed ${inv.prefix}; edges: ${inv.nodes.filter((x) => x.role === 'edge').map((x) => x.name).join(', ')}`, 'node');
  return n;
}

function nfsServerOf(inv: Inventory) {
  const n = inv.nodes.find((x) => x.role === 'nfs');
  if (!n) throw new ConfigError(`--shared: testbed ${inv.prefix} has no NFS server node`, 'shared');
  return n;
}

export function addressOf(inv: Inventory, index: string | undefined) {
  const i = index === undefined ? 0 : Number(index);
  const addr = Number.isInteger(i) ? inv.containerAddresses[i] : undefined;
  if (!addr) throw new ConfigError(`--address: must be an index from 0 to ${inv.containerAddresses.length - 1} into the inventory's containerAddresses, got "${index}"`, 'address');
  return addr;
}

export async function containerDeploy(o: ContainerCliOptions): Promise<void> {
  const inv = readInventory(o.inventory);
  const node = nodeOf(inv, o.node);
  const addr = addressOf(inv, o.address);
  const mount = o.shared ? sharedMount(inv) : undefined;
  log(`deploying blank container ${o.name} on ${o.node} at ${addr.ip}${mount ? ` (rootfs on ${mount})` : ''}`);
  const spec = { name: o.name, ip: addr.ip, prefixLength: Number(inv.subnet.split('/')[1]), mac: addr.mac, bridge: 'br0' };
  await SshConnection.with(sshTarget(inv, node), async (c) => {
    if (!mount) return deployBlank(c, spec);
    const server = nfsServerOf(inv);
    return SshConnection.with(sshTarget(inv, server), (s) => deployBlank(c, spec, { shared: { server: s, exportDir: inv.nfs!.export, mountPoint: mount } }));
  });
  log(`${o.name} RUNNING on ${o.node}; http://${addr.ip}/count`);
}

export async function containerRemove(o: ContainerCliOptions): Promise<void> {
  const inv = readInventory(o.inventory);
  const node = nodeOf(inv, o.node);
  const mount = o.shared ? sharedMount(inv) : undefined;
  await SshConnection.with(sshTarget(inv, node), async (c) => {
    if (!mount) return removeContainer(c, o.name);
    return SshConnection.with(sshTarget(inv, nfsServerOf(inv)), (s) => removeContainer(c, o.name, { shared: { server: s, exportDir: inv.nfs!.export, mountPoint: mount } }));
  });
  log(`${o.name} removed from ${o.node}`);
}
