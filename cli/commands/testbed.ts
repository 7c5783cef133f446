// followme testbed up|status|down|cycle: the CLI-less runner.
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { down, findTestbed, up, defaultInventoryPath } from '../../provision/testbed/runner.js';
import { loadTopologyFile, stackConfigPath, TOPOLOGY_KEY } from '../../provision/topology/stack-config.js';
import { validateTopology } from '../../provision/topology/validate.js';
import type { Topology } from '../../provision/topology/schema.js';
import { readInventory } from '../../common/inventory.js';
import { SshConnection } from '../../common/ssh/transport.js';
import { sshTarget } from '../../common/ssh/target.js';
import { domainState } from '../../provision/libvirt/driver.js';
import { isEmpty } from '../../provision/libvirt/discover.js';
import { ConfigError } from '../../common/errors.js';
import { log, print } from '../output.js';
import { outputPath } from '../flags.js';
import type { TestbedFlags, TestbedUpFlags } from '../program.js';

/** The topology named by --stack or --config, with --prefix over it: checked, nothing touched yet. */
export function loadTopology(o: { stack: string; config?: string; prefix?: string }): { topology: Topology; source: string; stack?: string } {
  const path = o.config ?? stackConfigPath(o.stack);
  const shown = relative(process.cwd(), path) || path;
  let topology = loadTopologyFile(path);
  if (o.prefix !== undefined) {
    topology = validateTopology({ ...topology, prefix: o.prefix }, `--prefix (over ${shown}: ${TOPOLOGY_KEY})`);
  }
  return { topology, source: `${shown}: ${TOPOLOGY_KEY}`, ...(o.config ? {} : { stack: o.stack }) };
}

export async function testbedUp(flags: TestbedUpFlags): Promise<void> {
  const { topology, source, stack } = loadTopology(flags);
  const inventoryPath = flags.inventory === undefined ? undefined : outputPath('inventory', flags.inventory);
  log(`testbed ${topology.prefix}: up (${topology.nodes.map((n) => `${n.name}/${n.role}`).join(', ')})`);
  const r = await up({
    topology,
    source,
    ...(stack ? { stack } : {}),
    ...(inventoryPath ? { inventoryPath } : {}),
    wait: flags.wait,
    log,
  });
  log(`testbed ${topology.prefix}: ${flags.wait ? 'ready' : 'applied (readiness not awaited)'} in ${(r.timingsMs['total']! / 1000).toFixed(1)} s`);
  print(`${r.inventoryPath}\n`);
}

export async function testbedDown(o: TestbedFlags): Promise<void> {
  const { topology } = loadTopology(o);
  const started = Date.now();
  const r = await down(topology, log);
  log(`testbed ${topology.prefix}: down, ${r.removed} objects removed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

export async function testbedStatus(o: TestbedFlags): Promise<void> {
  const { topology } = loadTopology(o);
  const found = await findTestbed(topology);
  const invPath = defaultInventoryPath(topology.prefix);
  const inv = existsSync(invPath) ? readInventory(invPath) : undefined;
  const rows: Record<string, unknown>[] = [];
  for (const f of found) {
    for (const d of f.domains) {
      const node = inv?.nodes.find((n) => n.domain === d);
      let ssh = 'unknown (no inventory)';
      if (inv && node) {
        try {
          const r = await SshConnection.with(sshTarget(inv, node), (c) => c.run(['uname', '-r'], { timeoutMs: 10_000 }), { timeoutMs: 10_000 });
          ssh = r.stdout.trim();
        } catch (e) {
          ssh = `no answer: ${(e as Error).message}`;
        }
      }
      rows.push({ uri: f.uri, domain: d, state: await domainState(f.uri, d), ip: node?.ip, ssh });
    }
  }
  print(`${JSON.stringify({ prefix: topology.prefix, inventory: inv ? invPath : null, objects: found, domains: rows }, null, 2)}\n`);
}

/** up, one command over SSH on every node, down: the end-to-end smoke run. */
export async function testbedCycle(o: TestbedFlags): Promise<void> {
  const { topology, source, stack } = loadTopology(o);
  // cycle ends with down: never let it take away a testbed someone brought up.
  const existing = (await findTestbed(topology)).filter((f) => !isEmpty(f));
  if (existing.length) {
    throw new ConfigError(
      `testbed "${topology.prefix}" already exists in libvirt; \`testbed cycle\` only runs on a free prefix (use --prefix, or \`testbed down\` first)`,
      'prefix',
    );
  }
  try {
    const r = await up({ topology, source, ...(stack ? { stack } : {}), log });
    for (const n of r.inventory.nodes) {
      const out = await SshConnection.with(sshTarget(r.inventory, n), (c) =>
        c.check(['sh', '-c', 'echo "$(hostname) $(uname -r) criu $(criu --version | head -1) lxc $(lxc-start --version)"']),
      );
      log(`${n.name} (${n.ip}): ${out.stdout.trim()}`);
    }
    log(`testbed ${topology.prefix}: up and ready in ${(r.timingsMs['total']! / 1000).toFixed(1)} s`);
  } finally {
    await down(topology, log);
  }
}
