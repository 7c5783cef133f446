// Create / read / delete plan items in libvirt, idempotently: an object that
// already exists with our spec is adopted; one with another spec, or not made
// by us, is a ConflictError and is left alone.
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConflictError } from '../../common/errors.js';
import type { DomainItem, NetworkItem, PlanItem, PoolItem, VolumeItem } from '../plan/types.js';
import { readNetworkAddresses, readNetworkBridge, readNetworkHosts, readOwnership, readPoolPath, readVolumeCapacity } from './inspect.js';
import { buildSeedIso } from './seed-iso.js';
import { isNotFound, parseDomState, parseNameList, parseVolList, virsh } from './virsh.js';
import { domainXml, networkXml, poolXml, volumeXml } from './xml.js';
import { deleteVxlanPort, ensureVxlanPort } from '../hosts/vxlan-port.js';

export type EnsureOutcome = 'created' | 'adopted' | 'updated';

async function withXmlFile<T>(xml: string, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'followme-xml-'));
  try {
    const path = join(dir, 'object.xml');
    await writeFile(path, xml, { mode: 0o600 });
    return await fn(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function dumpOrUndefined(uri: string, args: string[]): Promise<string | undefined> {
  try {
    return (await virsh(uri, args)).stdout;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

// ---- pools ----

export async function ensurePool(p: PoolItem): Promise<EnsureOutcome> {
  const xml = await dumpOrUndefined(p.uri, ['pool-dumpxml', p.name]);
  if (xml !== undefined) {
    const path = readPoolPath(xml);
    if (path !== p.path) {
      throw new ConflictError(`${p.uri}: storage pool ${p.name} exists with path ${path}, expected ${p.path}; not touching it`);
    }
    const info = (await virsh(p.uri, ['pool-info', p.name])).stdout;
    if (!/State:\s+running/.test(info)) await virsh(p.uri, ['pool-start', p.name]);
    return 'adopted';
  }
  await withXmlFile(poolXml(p), (f) => virsh(p.uri, ['pool-define', f]));
  await virsh(p.uri, ['pool-build', p.name]);
  await virsh(p.uri, ['pool-start', p.name]);
  return 'created';
}

export async function deletePool(p: Pick<PoolItem, 'uri' | 'name'>): Promise<boolean> {
  const xml = await dumpOrUndefined(p.uri, ['pool-dumpxml', p.name]);
  if (xml === undefined) return false;
  const info = (await virsh(p.uri, ['pool-info', p.name])).stdout;
  if (/State:\s+running/.test(info)) {
    // Volumes were deleted first; pool-delete removes the (now empty) directory.
    await virsh(p.uri, ['pool-destroy', p.name]);
  }
  try {
    await virsh(p.uri, ['pool-delete', p.name]);
  } catch (e) {
    if (!isNotFound(e) && !/No such file|cannot remove/i.test(String((e as Error).message))) throw e;
  }
  await virsh(p.uri, ['pool-undefine', p.name]);
  return true;
}

// ---- networks ----

export async function ensureNetwork(n: NetworkItem, prefix: string): Promise<EnsureOutcome> {
  const xml = await dumpOrUndefined(n.uri, ['net-dumpxml', '--inactive', n.name]);
  if (xml !== undefined) {
    const own = readOwnership(xml, 'network');
    // libvirt before 9.7 drops network <metadata>; the bridge name is ours too.
    const ours = own ? own.prefix === prefix : readNetworkBridge(xml) === n.bridge;
    if (!ours) throw new ConflictError(`${n.uri}: network ${n.name} exists and was not made by followme (prefix ${prefix}); not touching it`);
    const addr = readNetworkAddresses(xml)[0];
    if (readNetworkBridge(xml) !== n.bridge || addr?.address !== n.gateway || `${addr.prefixLength}` !== n.subnet.split('/')[1]) {
      throw new ConflictError(
        `${n.uri}: network ${n.name} exists with another bridge or subnet (${addr?.address}/${addr?.prefixLength}); run \`followme testbed down\` first`,
      );
    }
    const active = parseNameList((await virsh(n.uri, ['net-list', '--name'])).stdout);
    if (!active.includes(n.name)) await virsh(n.uri, ['net-start', n.name]);
    // The one change libvirt makes in place: DHCP reservations (nodes added or removed).
    return (await syncDhcpHosts(n, readNetworkHosts(xml))) ? 'updated' : 'adopted';
  }
  await withXmlFile(networkXml(n, prefix), (f) => virsh(n.uri, ['net-define', f]));
  await virsh(n.uri, ['net-start', n.name]);
  return 'created';
}

function dhcpHostXml(h: { name: string; mac: string; ip: string }): string {
  return `<host mac="${h.mac}" name="${h.name}" ip="${h.ip}"/>`;
}

/** Adds missing and deletes stale reservations, live and in the persistent config. */
async function syncDhcpHosts(n: NetworkItem, current: { name: string; mac: string; ip: string }[]): Promise<boolean> {
  const key = (h: { name: string; mac: string; ip: string }) => `${h.mac}|${h.name}|${h.ip}`;
  const want = new Set(n.hosts.map(key));
  const have = new Set(current.map(key));
  const stale = current.filter((h) => !want.has(key(h)));
  const missing = n.hosts.filter((h) => !have.has(key(h)));
  for (const h of stale) await virsh(n.uri, ['net-update', n.name, 'delete', 'ip-dhcp-host', dhcpHostXml(h), '--live', '--config']);
  for (const h of missing) await virsh(n.uri, ['net-update', n.name, 'add-last', 'ip-dhcp-host', dhcpHostXml(h), '--live', '--config']);
  return stale.length + missing.length > 0;
}

export async function deleteNetwork(n: Pick<NetworkItem, 'uri' | 'name'>): Promise<boolean> {
  const active = parseNameList((await virsh(n.uri, ['net-list', '--name'])).stdout);
  const all = parseNameList((await virsh(n.uri, ['net-list', '--all', '--name'])).stdout);
  if (!all.includes(n.name)) return false;
  if (active.includes(n.name)) await virsh(n.uri, ['net-destroy', n.name]);
  await virsh(n.uri, ['net-undefine', n.name]);
  return true;
}

// ---- volumes ----

export async function listVolumes(uri: string, pool: string): Promise<{ name: string; path: string }[]> {
  try {
    return parseVolList((await virsh(uri, ['vol-list', pool])).stdout);
  } catch (e) {
    if (isNotFound(e)) return [];
    throw e;
  }
}

async function uploadFile(v: VolumeItem, file: string, format: 'qcow2' | 'raw'): Promise<void> {
  const size = (await stat(file)).size;
  const spec = { ...v, source: 'upload' as const, file, format };
  await withXmlFile(volumeXml(spec, size), (f) => virsh(v.uri, ['vol-create', v.pool, f]));
  try {
    await virsh(v.uri, ['vol-upload', '--pool', v.pool, v.name, file], { timeoutMs: 15 * 60_000 });
  } catch (e) {
    await virsh(v.uri, ['vol-delete', '--pool', v.pool, v.name]).catch(() => undefined);
    throw e;
  }
}

export async function ensureVolume(v: VolumeItem): Promise<EnsureOutcome> {
  const existing = await listVolumes(v.uri, v.pool);
  if (existing.some((e) => e.name === v.name)) {
    if (v.source === 'overlay') {
      const cap = readVolumeCapacity((await virsh(v.uri, ['vol-dumpxml', '--pool', v.pool, v.name])).stdout);
      if (cap !== v.capacityGiB * 1024 ** 3) {
        throw new ConflictError(`${v.uri}: volume ${v.name} exists with capacity ${cap} bytes, expected ${v.capacityGiB} GiB`);
      }
    }
    // Uploaded volumes carry the image's content key in their name; seeds are
    // rebuilt from the same keys and plan, so an existing one is the same.
    return 'adopted';
  }
  if (v.source === 'upload') {
    await uploadFile(v, v.file, v.format);
  } else if (v.source === 'overlay') {
    await withXmlFile(volumeXml(v), (f) => virsh(v.uri, ['vol-create', v.pool, f]));
  } else {
    const { iso, dir } = await buildSeedIso(v.label, v.files);
    try {
      await uploadFile(v, iso, 'raw');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return 'created';
}

export async function deleteVolume(v: Pick<VolumeItem, 'uri' | 'pool' | 'name'>): Promise<boolean> {
  try {
    await virsh(v.uri, ['vol-delete', '--pool', v.pool, v.name]);
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
}

// ---- domains ----

export async function domainState(uri: string, name: string): Promise<string | undefined> {
  try {
    return parseDomState((await virsh(uri, ['domstate', name])).stdout);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

export async function ensureDomain(d: DomainItem, prefix: string): Promise<EnsureOutcome> {
  const xml = await dumpOrUndefined(d.uri, ['dumpxml', '--inactive', d.name]);
  if (xml !== undefined) {
    const own = readOwnership(xml, 'domain');
    if (!own || own.prefix !== prefix) {
      throw new ConflictError(`${d.uri}: domain ${d.name} exists and was not made by followme (prefix ${prefix}); not touching it`);
    }
    if (own.specHash !== d.specHash) {
      throw new ConflictError(`${d.uri}: domain ${d.name} exists with another spec; run \`followme testbed down\` first`);
    }
    if ((await domainState(d.uri, d.name)) !== 'running') await virsh(d.uri, ['start', d.name]);
    return 'adopted';
  }
  await withXmlFile(domainXml(d, prefix), (f) => virsh(d.uri, ['define', f]));
  await virsh(d.uri, ['start', d.name]);
  return 'created';
}

export async function deleteDomain(d: Pick<DomainItem, 'uri' | 'name'>): Promise<boolean> {
  const state = await domainState(d.uri, d.name);
  if (state === undefined) return false;
  if (state !== 'shut off') {
    try {
      await virsh(d.uri, ['destroy', d.name]);
    } catch (e) {
      if (!/not running/i.test(String((e as Error).message))) throw e;
    }
  }
  await virsh(d.uri, ['undefine', d.name]);
  return true;
}

// ---- any plan item ----

/** Ensures one plan item of any kind (the Pulumi provider's entry point). */
export function ensureItem(item: PlanItem, prefix: string): Promise<EnsureOutcome> {
  if (item.kind === 'pool') return ensurePool(item);
  if (item.kind === 'network') return ensureNetwork(item, prefix);
  if (item.kind === 'volume') return ensureVolume(item);
  if (item.kind === 'vxlan') return ensureVxlanPort(item);
  return ensureDomain(item, prefix);
}

/** Deletes one plan item of any kind; absent is fine. */
export function deleteItem(item: PlanItem): Promise<boolean> {
  if (item.kind === 'pool') return deletePool(item);
  if (item.kind === 'network') return deleteNetwork(item);
  if (item.kind === 'volume') return deleteVolume(item);
  if (item.kind === 'vxlan') return deleteVxlanPort(item);
  return deleteDomain(item);
}
