// followme doctor: what a migration needs, checked before anything runs, one
// line per check (ok / warn / fail, with the fix). The host's checks come
// from the stack config; the edges' from the testbed's inventory, when it is
// up. Exit 0 when every registered strategy can run, 1 otherwise.
import { existsSync } from 'node:fs';
import { ConfigError, FollowmeError } from '../../common/errors.js';
import { readInventory, type Inventory } from '../../common/inventory.js';
import { type Check, checkLine, warn } from '../../doctor/check.js';
import { edgeChecks } from '../../doctor/edges.js';
import { hostChecks } from '../../doctor/host.js';
import { connectEdge } from '../../migration/edge.js';
import { defaultInventoryPath } from '../../provision/testbed/runner.js';
import { validateTopology } from '../../provision/topology/validate.js';
import { log, print } from '../output.js';
import { loadTopology } from './testbed.js';

export interface DoctorFlags {
  stack?: string;
  config?: string;
  inventory?: string;
}

/** The flags checked in one place: at most one of --stack, --config and --inventory. */
function targetOf(f: DoctorFlags): { stack: string; config?: string } | { inventory: string } {
  const given = (['stack', 'config', 'inventory'] as const).filter((k) => f[k] !== undefined);
  if (given.length > 1) throw new ConfigError(`--${given[0]} and --${given[1]}: give one of --stack, --config or --inventory`, given[1]!);
  if (f.inventory !== undefined) return { inventory: f.inventory };
  return { stack: f.stack ?? 'two-vm', ...(f.config !== undefined ? { config: f.config } : {}) };
}

export async function doctor(flags: DoctorFlags): Promise<void> {
  const target = targetOf(flags);
  let inventory: Inventory | undefined;
  let loaded: ReturnType<typeof loadTopology>;
  if ('inventory' in target) {
    inventory = readInventory(target.inventory);
    if (!inventory.stack) throw new ConfigError(`--inventory: ${target.inventory} names no stack; give --stack or --config instead`, 'inventory');
    // The stack's topology, under the inventory's prefix and subnet: the host checks are those of the testbed that is up.
    const stack = loadTopology({ stack: inventory.stack });
    loaded = {
      ...stack,
      topology: validateTopology({ ...stack.topology, prefix: inventory.prefix, subnet: inventory.subnet }, `--inventory ${target.inventory}`),
    };
  } else {
    loaded = loadTopology(target);
    const path = defaultInventoryPath(loaded.topology.prefix);
    if (existsSync(path)) inventory = readInventory(path);
  }
  const { topology, source } = loaded;
  log(`doctor: testbed ${topology.prefix} (${source})${inventory ? '' : ', not up'}`);
  const checks: Check[] = [];
  const show = (cs: Check[]) => {
    for (const c of cs) print(`${checkLine(c)}\n`);
    checks.push(...cs);
  };
  show(await hostChecks(topology, source));
  if (inventory) {
    const inv = inventory;
    show(
      await edgeChecks(inv, async (name) => {
        const n = inv.nodes.find((x) => x.name === name)!;
        return connectEdge(n);
      }),
    );
  } else {
    show([
      warn(
        'edges',
        'testbed',
        `${topology.prefix} is not up: the edges were not checked`,
        `\`followme testbed up ${'config' in target && target.config ? `--config ${target.config}` : `--stack ${'stack' in target ? target.stack : ''}`}\`, then doctor again`,
      ),
    ]);
  }
  const failed = checks.filter((c) => c.verdict === 'fail');
  const warned = checks.filter((c) => c.verdict === 'warn').length;
  print(`doctor: ${checks.length - failed.length - warned} ok, ${warned} warn, ${failed.length} fail\n`);
  if (failed.length)
    throw new FollowmeError(`doctor: ${failed.length} check${failed.length === 1 ? '' : 's'} failed: ${failed.map((c) => `${c.where} ${c.what}`).join('; ')}`);
}
