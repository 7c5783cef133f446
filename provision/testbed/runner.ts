// The CLI-less applier: carries out the same plan with the same libvirt
// driver as the Pulumi program. up = image → preflight → keys → plan →
// pools → networks → volumes → domains (in parallel) → inventory → readiness.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, FollowmeError } from '../../common/errors.js';
import { ensureImage, recipeFor } from '../image/build.js';
import { buildPlan, names } from '../plan/plan.js';
import { vxlanItems } from '../plan/vxlan.js';
import { deleteVxlanPort } from '../hosts/vxlan-port.js';
import { pinHostKey } from '../hosts/pinned-ssh.js';
import { isLocalUri } from '../../common/input/libvirt-uri.js';
import type { Hypervisor, Plan, PlanItem } from '../plan/types.js';
import { resolveNode, type Topology } from '../topology/schema.js';
import { testbedStateDir } from '../../common/paths.js';
import { deleteDomain, deleteNetwork, deletePool, deleteVolume, ensureItem } from '../libvirt/driver.js';
import { discover, isEmpty, type FoundObjects } from '../libvirt/discover.js';
import { checkHostMemory, checkSubnetFree, probeHypervisor } from './preflight.js';
import { ensureTestbedKeys, hasKeys } from './keys.js';
import type { Inventory } from '../../common/inventory.js';
import { inventoryFromPlan, writeInventory } from './inventory.js';
import { waitTestbedReady } from './readiness.js';

export type Log = (line: string) => void;

export interface UpOptions {
  topology: Topology;
  /** Names the config in messages, e.g. "stacks/Pulumi.two-vm.yaml: followme:topology". */
  source: string;
  stack?: string;
  inventoryPath?: string;
  wait?: boolean;
  log?: Log;
}

export interface UpResult {
  plan: Plan;
  inventory: Inventory;
  inventoryPath: string;
  timingsMs: Record<string, number>;
  readiness?: Record<string, Record<string, number>>;
}

export function topologyUris(t: Topology): string[] {
  return [...new Set(t.nodes.map((n) => resolveNode(t, n).libvirtUri))];
}

/** Writes each remote host's pinned key where virsh's ssh reads it (hosts/pinned-ssh.ts): before anything asks a remote host. */
function pinRemoteHosts(t: Topology): void {
  for (const h of t.hosts ?? []) if (!isLocalUri(h.libvirtUri) && h.sshHostKey) pinHostKey(h.libvirtUri, h.sshHostKey);
}

export function defaultInventoryPath(prefix: string): string {
  return join(testbedStateDir(prefix), 'inventory.json');
}

async function probeAll(t: Topology, uris: string[], kernel?: string): Promise<Record<string, Hypervisor>> {
  const forced = t.hypervisor && t.hypervisor !== 'auto' ? t.hypervisor : undefined;
  return Object.fromEntries(await Promise.all(uris.map(async (u) => [u, forced ?? (await probeHypervisor(u, kernel))] as const)));
}

/** Everything before the first libvirt change; throws ConfigError on bad input. */
export async function prepare(o: UpOptions): Promise<Plan> {
  const t = o.topology;
  const log = o.log ?? (() => {});
  const uris = topologyUris(t);
  // Guests on two hosts need one L2 segment between them (the VXLAN of issue #24), which is not made yet: without it,
  // each host's network would serve its own gateway and DHCP at the same addresses.
  if (uris.length > 1)
    throw new ConfigError(
      `${o.source}: the nodes are on ${uris.length} libvirt hosts (${uris.join(', ')}); followme does not yet join hosts into one network, so every node must be on one host`,
      t.hosts ? 'hosts' : 'nodes',
    );
  pinRemoteHosts(t);
  const dir = testbedStateDir(t.prefix);
  if (!hasKeys(dir)) {
    const leftovers = await findTestbed(t);
    if (leftovers.some((f) => f.domains.length > 0)) {
      throw new ConfigError(
        `testbed "${t.prefix}" has domains in libvirt but its keys (${dir}) are gone, so its VMs cannot be reached; run \`followme testbed down\` first`,
        'prefix',
      );
    }
  }
  await checkSubnetFree(t.prefix, t.subnet, uris, o.source);
  checkHostMemory(t, o.source);
  const image = (await ensureImage(recipeFor(t), log)).image;
  const hypervisors = await probeAll(t, uris, image.kernel);
  log(
    `hypervisor: ${Object.entries(hypervisors)
      .map(([u, h]) => `${u} → ${h === 'kvm' ? 'KVM' : 'QEMU TCG (no usable KVM)'}`)
      .join(', ')}`,
  );
  const keys = ensureTestbedKeys(
    dir,
    t.prefix,
    t.nodes.map((n) => n.name),
  );
  return buildPlan({ topology: t, image, keys, hypervisors });
}

/** Creates (or adopts) every plan item; items of one kind go in parallel. */
export async function apply(plan: Plan, log: Log): Promise<void> {
  const step = async <T extends { name: string }>(what: string, items: T[], fn: (i: T) => Promise<string>) => {
    const started = Date.now();
    const outcomes = await Promise.all(items.map(async (i) => `${i.name} ${await fn(i)}`));
    log(`${what}: ${outcomes.join(', ')} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  };
  const ensure = (i: PlanItem) => ensureItem(i, plan.prefix);
  await step('pools', plan.pools, ensure);
  await step('networks', plan.networks, ensure);
  // The bridges exist now: join them across hosts before any guest asks for its address.
  if (plan.vxlans.length) await step('VXLAN ports', plan.vxlans, ensure);
  // Base images and kernels first: overlays name them as backing files.
  await step(
    'images',
    plan.volumes.filter((v) => v.source === 'upload'),
    ensure,
  );
  await step(
    'disks and seeds',
    plan.volumes.filter((v) => v.source !== 'upload'),
    ensure,
  );
  await step('domains', plan.domains, ensure);
}

export async function up(o: UpOptions): Promise<UpResult> {
  const log = o.log ?? (() => {});
  const timingsMs: Record<string, number> = {};
  const t0 = Date.now();
  const plan = await prepare(o);
  timingsMs['prepare'] = Date.now() - t0;
  const t1 = Date.now();
  try {
    await apply(plan, log);
  } catch (e) {
    if (e instanceof FollowmeError) {
      e.message += `\n(testbed "${plan.prefix}" may be partly created: \`followme testbed down\` removes what was made)`;
    }
    throw e;
  }
  timingsMs['apply'] = Date.now() - t1;
  const inventory = inventoryFromPlan(plan, o.stack);
  const inventoryPath = o.inventoryPath ?? defaultInventoryPath(plan.prefix);
  writeInventory(inventoryPath, inventory);
  log(`inventory: ${inventoryPath}`);
  const result: UpResult = { plan, inventory, inventoryPath, timingsMs };
  if (o.wait !== false) {
    const t2 = Date.now();
    log(`waiting for ${inventory.nodes.map((n) => n.name).join(', ')} (address → ssh → edge tools${plan.nfs ? ' → nfs' : ''})`);
    result.readiness = await waitTestbedReady(inventory, log);
    timingsMs['ready'] = Date.now() - t2;
  }
  timingsMs['total'] = Date.now() - t0;
  return result;
}

export async function findTestbed(t: Topology): Promise<FoundObjects[]> {
  pinRemoteHosts(t);
  return Promise.all(topologyUris(t).map((u) => discover(u, t.prefix)));
}

/** Removes every object of the testbed found by prefix + ownership, then its state. Idempotent. */
export async function down(t: Topology, log: Log = () => {}): Promise<{ removed: number }> {
  let removed = 0;
  const uris = topologyUris(t);
  const ports = uris.length > 1 ? vxlanItems(t, uris, names.bridge(t.prefix)) : [];
  for (const f of await findTestbed(t)) {
    const uri = f.uri;
    await Promise.all(f.domains.map(async (name) => (await deleteDomain({ uri, name })) && removed++));
    await Promise.all(f.volumes.map(async (v) => (await deleteVolume({ uri, ...v })) && removed++));
    // The VXLAN port before the bridge it is a port of: removing the network would leave it behind, detached.
    for (const port of ports.filter((p) => p.uri === uri)) if (await deleteVxlanPort(port)) removed++;
    for (const name of f.networks) if (await deleteNetwork({ uri, name })) removed++;
    for (const name of f.pools) if (await deletePool({ uri, name })) removed++;
    const what = [`${f.domains.length} domains`, `${f.volumes.length} volumes`, `${f.networks.length} networks`, `${f.pools.length} pools`];
    log(`${uri}: removed ${what.join(', ')}`);
  }
  const dir = testbedStateDir(t.prefix);
  if (existsSync(dir)) {
    rmSync(dir, { recursive: true, force: true });
    log(`removed state ${dir}`);
  }
  const left = await findTestbed(t);
  if (!left.every(isEmpty)) {
    throw new FollowmeError(`testbed "${t.prefix}": objects remain after down: ${JSON.stringify(left)}`);
  }
  return { removed };
}
