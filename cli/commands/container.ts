// followme container deploy|remove: a workload's container on one edge.
import { ConfigError } from '../../common/errors.js';
import { readInventory, type Inventory } from '../../common/inventory.js';
import { SshConnection } from '../../common/ssh/transport.js';
import { sshTarget } from '../../common/ssh/target.js';
import { deployContainer, removeContainer, type DeploySource } from '../../migration/container.js';
import { WORKLOAD_NAMES } from '../../workloads/types.js';
import { workloadNamed } from '../../workloads/index.js';
import { sharedMount } from '../../migration/storage/shared.js';
import { containerName, edgeOf, oneOf, wholeNumber } from '../flags.js';
import { log } from '../output.js';
import type { ContainerDeployFlags, ContainerRemoveFlags } from '../program.js';

function nfsServerOf(inv: Inventory) {
  const n = inv.nodes.find((x) => x.role === 'nfs');
  if (!n || !inv.nfs) throw new ConfigError(`--shared: testbed ${inv.prefix} has no NFS server node`, 'shared');
  return { node: n, nfs: inv.nfs };
}

/** The checked flags of deploy and remove; the address only for deploy. */
function checkFlags(f: ContainerDeployFlags | ContainerRemoveFlags) {
  const inv = readInventory(f.inventory);
  const node = edgeOf(inv, 'node', f.node);
  const name = containerName('name', f.name);
  const share = f.shared ? { ...nfsServerOf(inv), mountPoint: sharedMount(inv) } : undefined;
  return { inv, node, name, share };
}

export async function containerDeploy(flags: ContainerDeployFlags): Promise<void> {
  const { inv, node, name, share } = checkFlags(flags);
  const workload = workloadNamed(oneOf('workload', flags.workload, WORKLOAD_NAMES));
  if (inv.containerAddresses.length === 0) throw new ConfigError(`--address: testbed ${inv.prefix} has no container addresses`, 'address');
  const addr = inv.containerAddresses[wholeNumber('address', flags.address, 0, inv.containerAddresses.length - 1)]!;
  log(`deploying ${workload.name} container ${name} on ${node.name} at ${addr.ip}${share ? ` (rootfs on ${share.mountPoint})` : ''}`);
  const spec = { name, ip: addr.ip, prefixLength: Number(inv.subnet.split('/')[1]), mac: addr.mac, bridge: 'br0', ...(inv.mtu ? { mtu: inv.mtu } : {}) };
  // The workload's default parameters: plans (`followme experiment`) set others.
  const from: DeploySource = { template: workload.name, beforeStart: (n, rootfs) => workload.install(n, rootfs, workload.defaults, log) };
  await SshConnection.with(sshTarget(inv, node), async (c) => {
    if (!share) return deployContainer(c, spec, from);
    return SshConnection.with(sshTarget(inv, share.node), (s) =>
      deployContainer(c, spec, from, { shared: { server: s, exportDir: share.nfs.export, mountPoint: share.mountPoint } }),
    );
  });
  log(`${name} RUNNING on ${node.name}; http://${addr.ip}${workload.service.path}`);
}

export async function containerRemove(flags: ContainerRemoveFlags): Promise<void> {
  const { inv, node, name, share } = checkFlags(flags);
  await SshConnection.with(sshTarget(inv, node), async (c) => {
    if (!share) return removeContainer(c, name);
    return SshConnection.with(sshTarget(inv, share.node), (s) =>
      removeContainer(c, name, { shared: { server: s, exportDir: share.nfs.export, mountPoint: share.mountPoint } }),
    );
  });
  log(`${name} removed from ${node.name}`);
}
