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
import { pinRemoteHosts } from '../hosts/pinned-ssh.js';
import type { Hypervisor, Plan, PlanItem } from '../plan/types.js';
import { resolveNode, type Topology } from '../topology/schema.js';
import { testbedStateDir } from '../../common/paths.js';
import { deleteDomain, deleteItem, deleteNetwork, deletePool, deleteVolume, ensureItem } from '../libvirt/driver.js';
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

/** A stage of `apply` that failed on one host: its name and the host's say where up stopped. */
export class ApplyStageError extends FollowmeError {
  constructor(
    readonly stage: string,
    readonly uri: string,
    cause: Error,
  ) {
    super(`${stage} on ${uri}: ${cause.message}`, { cause });
  }
}

/**
 * Creates (or adopts) every plan item; items of one kind go in parallel.
 * `made` collects the items this call created (not those it found), in order.
 */
export async function apply(plan: Plan, log: Log, made: PlanItem[] = []): Promise<void> {
  const step = async <T extends PlanItem>(what: string, items: T[], fn: (i: T) => Promise<string>) => {
    const started = Date.now();
    const outcomes = await Promise.allSettled(
      items.map(async (i) => {
        const outcome = await fn(i);
        if (outcome === 'created') made.push(i);
        return `${i.name} ${outcome}`;
      }),
    );
    const failure = outcomes.findIndex((r) => r.status === 'rejected');
    if (failure >= 0) throw new ApplyStageError(what, items[failure]!.uri, (outcomes[failure] as PromiseRejectedResult).reason as Error);
    log(`${what}: ${outcomes.map((r) => (r as PromiseFulfilledResult<string>).value).join(', ')} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
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

/**
 * apply, and when it stops at a stage on one host, removes what it had made
 * on every host (what it found stays as it was) and throws the stage's
 * error, naming the stage and the host and saying what could not be removed.
 */
export async function applyOrUndo(plan: Plan, t: Topology, log: Log): Promise<void> {
  const made: PlanItem[] = [];
  try {
    await apply(plan, log, made);
  } catch (e) {
    // Stopped at a stage on one host: what this up made, on every host, goes again (what it found stays as it was).
    const stage = e instanceof ApplyStageError ? e : undefined;
    const where = stage ? `up stopped at "${stage.stage}" on ${hostName(t, stage.uri)}` : 'up stopped';
    log(`${where}; removing the ${made.length} objects it had made`);
    const left = await removeMade(made);
    const cause = stage?.cause instanceof Error ? stage.cause : (e as Error);
    const cleanup = left.length
      ? `not removed: ${left.join('; ')}; \`followme testbed down\` removes them once every host answers`
      : `the ${made.length} objects it had made are removed`;
    if (cause instanceof FollowmeError) {
      cause.message = `${where}: ${cause.message}\n${cleanup}`;
      throw cause;
    }
    throw new FollowmeError(`${where}: ${cause.message}\n${cleanup}`, { cause });
  }
}

export async function up(o: UpOptions): Promise<UpResult> {
  const log = o.log ?? (() => {});
  const timingsMs: Record<string, number> = {};
  const t0 = Date.now();
  const plan = await prepare(o);
  timingsMs['prepare'] = Date.now() - t0;
  const t1 = Date.now();
  await applyOrUndo(plan, o.topology, log);
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

/** Removes `made` newest first (domains before their disks, ports before their bridges); what could not go, and where. */
async function removeMade(made: PlanItem[]): Promise<string[]> {
  const left: string[] = [];
  for (const item of [...made].reverse()) {
    await deleteItem(item).catch((e: unknown) => left.push(`${item.kind} ${item.name} on ${item.uri} (${(e as Error).message.split('\n')[0]})`));
  }
  return left;
}

/** A host's name for messages: its name in the config's hosts, else its URI. */
function hostName(t: Topology, uri: string): string {
  const h = t.hosts?.find((x) => x.libvirtUri === uri);
  return h ? `${h.name} (${uri})` : uri;
}

/**
 * Removes every object of the testbed found by prefix + ownership, host by
 * host, then its state. Idempotent. A host that cannot be reached, or fails
 * midway, does not stop the others: what is left, and where, is said in the
 * error, and the state stays for a later `down` to finish.
 */
export async function down(t: Topology, log: Log = () => {}): Promise<{ removed: number }> {
  pinRemoteHosts(t);
  let removed = 0;
  const uris = topologyUris(t);
  const ports = uris.length > 1 ? vxlanItems(t, uris, names.bridge(t.prefix)) : [];
  const failed: string[] = [];
  for (const uri of uris) {
    let stage = 'finding its objects';
    try {
      const f = await discover(uri, t.prefix);
      stage = 'removing its domains';
      await Promise.all(f.domains.map(async (name) => (await deleteDomain({ uri, name })) && removed++));
      stage = 'removing its volumes';
      await Promise.all(f.volumes.map(async (v) => (await deleteVolume({ uri, ...v })) && removed++));
      // The VXLAN port before the bridge it is a port of: removing the network would leave it behind, detached.
      stage = 'removing its VXLAN port';
      for (const port of ports.filter((p) => p.uri === uri)) if (await deleteVxlanPort(port)) removed++;
      stage = 'removing its networks';
      for (const name of f.networks) if (await deleteNetwork({ uri, name })) removed++;
      stage = 'removing its pools';
      for (const name of f.pools) if (await deletePool({ uri, name })) removed++;
      const what = [`${f.domains.length} domains`, `${f.volumes.length} volumes`, `${f.networks.length} networks`, `${f.pools.length} pools`];
      log(`${uri}: removed ${what.join(', ')}`);
    } catch (e) {
      failed.push(`${hostName(t, uri)}: failed ${stage}: ${(e as Error).message.split('\n').slice(0, 2).join(' ')}`);
      log(`${uri}: failed ${stage}; going on with the other hosts`);
    }
  }
  // What is there now, where it can be seen; a host that cannot be asked may hold anything of the testbed.
  const left: string[] = [];
  for (const uri of uris) {
    const f = await discover(uri, t.prefix).catch((e: unknown) => e as Error);
    if (f instanceof Error) left.push(`${hostName(t, uri)}: cannot be asked (${f.message.split('\n')[0]}); whatever of the testbed it held is still there`);
    else if (!isEmpty(f)) left.push(`${hostName(t, uri)}: ${describeFound(f)}`);
    // A VXLAN port that could not be removed is in `failed` already (its own stage).
  }
  if (failed.length || left.length) {
    throw new FollowmeError(
      `testbed "${t.prefix}" is not fully removed:\n${[...failed, ...left.map((l) => `left on ${l}`)].map((l) => `  - ${l}`).join('\n')}\n` +
        `its state (${testbedStateDir(t.prefix)}) is kept; run \`followme testbed down\` again once every host answers`,
    );
  }
  const dir = testbedStateDir(t.prefix);
  if (existsSync(dir)) {
    rmSync(dir, { recursive: true, force: true });
    log(`removed state ${dir}`);
  }
  return { removed };
}

function describeFound(f: FoundObjects): string {
  const parts = [
    f.domains.length ? `domains ${f.domains.join(', ')}` : '',
    f.volumes.length ? `volumes ${f.volumes.map((v) => v.name).join(', ')}` : '',
    f.networks.length ? `networks ${f.networks.join(', ')}` : '',
    f.pools.length ? `pools ${f.pools.join(', ')}` : '',
  ];
  return parts.filter(Boolean).join('; ');
}
