// One testbed for the whole integration run (a TCG VM takes over a minute to
// boot): the corridor, three edges and the NFS node. Tests of two edges get
// a view of it, its edge-a and edge-b without the NFS node, instead of a
// two-vm testbed of their own: four guests on two cores instead of six make
// every test faster. Test files run one after another, so the views never
// meet. Teardown brings it down and fails the run if libvirt still holds any
// object with its prefix. In a two-host sandbox (npm test makes one) the
// corridor spans both hosts (acrossHosts), and teardown looks at both.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readInventory, validateInventory } from '../../common/inventory.js';
import type { TestProject } from 'vitest/node';
import { loadStack } from '../../provision/topology/stack-config.js';
import { stackConfigPath } from '../../provision/topology/stack-config.js';
import { down, up } from '../../provision/testbed/runner.js';
import { ensureImage, recipeFor } from '../../provision/image/build.js';
import { insideSandbox, objectsWithPrefix, secondHost } from './libvirt-objects.js';
import type { Topology } from '../../provision/topology/schema.js';
import { validateTopology } from '../../provision/topology/validate.js';
import { vmHealthReport } from './vm-health.js';

declare module 'vitest' {
  export interface ProvidedContext {
    twoVmInventory: string;
    corridorInventory: string;
  }
}

const STACKS = { corridorInventory: 'corridor' } as const;

/** Two edges of a testbed, without its NFS node: what a two-vm testbed offers. */
export function twoEdgeView(corridorInventoryPath: string): string {
  const inv = readInventory(corridorInventoryPath);
  const edges = inv.nodes.filter((n) => n.role === 'edge').slice(0, 2);
  const { nfs: _nfs, ...rest } = inv;
  const view = validateInventory({ ...rest, nodes: edges }, 'the two-edge view of the corridor');
  const path = join(dirname(corridorInventoryPath), 'two-edges.json');
  writeFileSync(path, `${JSON.stringify(view, null, 2)}\n`, { mode: 0o600 });
  return path;
}

/**
 * In a two-host sandbox the corridor spans both hosts, joined by VXLAN:
 * edge-a and edge-c on this one, edge-b and the NFS node on the second. So
 * every move between edge-a and edge-b, and every use of the share, crosses
 * the hosts, with no testbed more to boot.
 */
export function acrossHosts(t: Topology): Topology {
  const h2 = secondHost();
  if (!h2) return t;
  const { libvirtUri: _, ...defaults } = t.defaults ?? {};
  return validateTopology(
    {
      ...t,
      defaults,
      hosts: [
        { name: 'host1', libvirtUri: 'qemu:///system', underlay: h2.underlay[0] },
        { name: 'host2', libvirtUri: h2.uri, underlay: h2.underlay[1], sshHostKey: h2.hostKey },
      ],
      nodes: t.nodes.map((n) => ({ ...n, host: n.name === 'edge-b' || n.role === 'nfs' ? 'host2' : 'host1' })),
    },
    "the corridor across the sandbox's two hosts",
  );
}

function log(line: string): void {
  process.stderr.write(`[global-setup ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!insideSandbox()) {
    throw new Error('integration tests run inside the hermetic sandbox: use `npm test` (test/harness/sandbox.sh), not vitest directly');
  }
  const topologies = Object.fromEntries(Object.entries(STACKS).map(([k, s]) => [k, acrossHosts(loadStack(s))]));
  await ensureImage(recipeFor(topologies['corridorInventory']!), log);
  const started = Date.now();
  const results = await Promise.allSettled(
    Object.entries(STACKS).map(async ([key, stack]) => {
      const r = await up({ topology: topologies[key]!, source: stackConfigPath(stack), stack, log: (l) => log(`${stack}: ${l}`) });
      project.provide(key as keyof typeof STACKS, r.inventoryPath);
      if (key === 'corridorInventory') project.provide('twoVmInventory', twoEdgeView(r.inventoryPath));
      return r;
    }),
  );
  log(`testbeds up in ${((Date.now() - started) / 1000).toFixed(0)} s`);

  // Silent on success, so the run still ends with vitest's summary.
  const teardown = async () => {
    const leftovers: string[] = [];
    for (const t of Object.values(topologies)) {
      for (const paragraph of await vmHealthReport(t).catch((e: Error) => [`health report: ${e.message}`])) {
        log(`a VM was not healthy at teardown:\n${paragraph}`);
      }
      await down(t);
      leftovers.push(...(await objectsWithPrefix(t.prefix)));
      if (t.hosts) leftovers.push(...(await objectsWithPrefix(t.prefix, 'host2')));
    }
    if (leftovers.length) {
      throw new Error(`teardown: virsh list/net-list/pool-list/vol-list still show: ${leftovers.join(', ')}`);
    }
  };
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await teardown().catch((e) => log(`teardown after failed setup: ${(e as Error).message}`));
    throw failed.reason;
  }
  return teardown;
}
