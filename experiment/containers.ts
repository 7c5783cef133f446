// The experiment's containers: for each workload one whose rootfs is local
// (tmpfs, diskless) and, with an NFS share, one whose rootfs lives on it
// (shared). The runner finds where each runs (resuming after a crash), deploys
// what is missing, and removes them when the workload's runs are done.
import { FollowmeError } from '../common/errors.js';
import type { Inventory, InventoryNode } from '../common/inventory.js';
import { sshTarget } from '../common/ssh/target.js';
import { SshConnection } from '../common/ssh/transport.js';
import { containerState, deployContainer, removeContainer, type SharedStorage } from '../migration/container.js';
import type { StrategyName } from '../migration/record/schema.js';
import { strategyNamed } from '../migration/strategies/index.js';
import { workloadNamed } from '../workloads/index.js';
import type { WorkloadName } from '../workloads/types.js';

export interface ExperimentContainer {
  name: string;
  workload: WorkloadName;
  shared: boolean;
  ip: string;
  mac: string;
}

/** The container a strategy moves: the one on the share for a strategy on shared storage, the local one otherwise. */
export function containerFor(workload: WorkloadName, strategy: StrategyName, inv: Inventory): ExperimentContainer {
  const shared = strategyNamed(strategy).storage.needsShare;
  const addr = inv.containerAddresses[shared ? 1 : 0];
  if (!addr) throw new FollowmeError(`testbed ${inv.prefix} has no container address #${shared ? 1 : 0}`);
  return { name: shared ? `${workload}-nfs` : workload, workload, shared, ip: addr.ip, mac: addr.mac };
}

export function edges(inv: Inventory): InventoryNode[] {
  return inv.nodes.filter((n) => n.role === 'edge');
}

export async function withShare<T>(inv: Inventory, fn: (s: SharedStorage | undefined) => Promise<T>): Promise<T> {
  const server = inv.nodes.find((n) => n.role === 'nfs');
  const nfs = inv.nfs;
  if (!server || !nfs) return fn(undefined);
  return SshConnection.with(sshTarget(inv, server), (c) => fn({ server: c, exportDir: nfs.export, mountPoint: nfs.mountPoint }));
}

/** Where the container runs: its edge; undefined when it exists nowhere. A container in any other state stops the experiment. */
export async function locate(inv: Inventory, name: string): Promise<string | undefined> {
  const states: [string, string | undefined][] = [];
  for (const e of edges(inv)) states.push([e.name, await SshConnection.with(sshTarget(inv, e), (c) => containerState(c, name))]);
  const present = states.filter(([, s]) => s !== undefined);
  if (present.length === 0) return undefined;
  if (present.length === 1 && present[0]![1] === 'RUNNING') return present[0]![0];
  throw new FollowmeError(
    `container ${name} is ${present.map(([e, s]) => `${s} on ${e}`).join(' and ')}: not running in exactly one place, so no run can start from it ` +
      '(an earlier run was cut short mid-migration?). `followme recover --inventory FILE` settles a migration cut short; ' +
      'otherwise remove the container (`followme container remove`). Then the same command again redoes that run.',
  );
}

/** Runs the container somewhere: where it already runs, or freshly deployed on `on` (default the first edge). */
export async function ensureContainer(
  inv: Inventory,
  c: ExperimentContainer,
  params: Record<string, unknown>,
  log: (line: string) => void,
  on?: string,
): Promise<string> {
  const where = await locate(inv, c.name);
  if (where) {
    log(`${c.name}: already running on ${where}`);
    return where;
  }
  const first = edges(inv).find((e) => on === undefined || e.name === on);
  if (!first) throw new FollowmeError(`testbed ${inv.prefix} has no edge ${on ?? ''}`);
  const workload = workloadNamed(c.workload);
  log(`${c.name}: deploying the ${c.workload} container on ${first.name} at ${c.ip}${c.shared ? ' (rootfs on the NFS share)' : ''}`);
  await withShare(inv, (share) =>
    SshConnection.with(sshTarget(inv, first), (conn) =>
      deployContainer(
        conn,
        { name: c.name, ip: c.ip, mac: c.mac, prefixLength: Number(inv.subnet.split('/')[1]), bridge: 'br0', ...(inv.mtu ? { mtu: inv.mtu } : {}) },
        { template: c.workload, beforeStart: (node, rootfs) => workload.install(node, rootfs, params, log) },
        c.shared ? { shared: share ?? noShare(inv) } : {},
      ),
    ),
  );
  return first.name;
}

function noShare(inv: Inventory): never {
  throw new FollowmeError(`testbed ${inv.prefix} has no NFS share for a shared container`);
}

export async function removeContainers(inv: Inventory, containers: readonly ExperimentContainer[]): Promise<void> {
  await withShare(inv, async (share) => {
    for (const e of edges(inv)) {
      await SshConnection.with(sshTarget(inv, e), async (conn) => {
        for (const c of containers) await removeContainer(conn, c.name, c.shared && share ? { shared: share } : {});
      });
    }
  });
}
