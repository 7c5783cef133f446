// Finds a testbed's objects in libvirt by prefix and ownership marks alone,
// so teardown works without an inventory or Pulumi state, and never touches
// an object that another prefix or another tool made.
import { names } from '../plan/plan.js';
import { readNetworkBridge, readOwnership, readPoolPath } from './inspect.js';
import { isNotFound, parseNameList, virsh } from './virsh.js';
import { listVolumes } from './driver.js';

export interface FoundObjects {
  uri: string;
  domains: string[];
  networks: string[];
  pools: string[];
  volumes: { pool: string; name: string }[];
}

async function xmlOf(uri: string, args: string[]): Promise<string | undefined> {
  try {
    return (await virsh(uri, args)).stdout;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

export async function discover(uri: string, prefix: string): Promise<FoundObjects> {
  const found: FoundObjects = { uri, domains: [], networks: [], pools: [], volumes: [] };
  for (const d of parseNameList((await virsh(uri, ['list', '--all', '--name'])).stdout)) {
    if (!d.startsWith(`${prefix}-`)) continue;
    const xml = await xmlOf(uri, ['dumpxml', '--inactive', d]);
    if (xml && readOwnership(xml, 'domain')?.prefix === prefix) found.domains.push(d);
  }
  for (const n of parseNameList((await virsh(uri, ['net-list', '--all', '--name'])).stdout)) {
    if (!n.startsWith(`${prefix}-`)) continue;
    const xml = await xmlOf(uri, ['net-dumpxml', '--inactive', n]);
    if (!xml) continue;
    const own = readOwnership(xml, 'network');
    if (own ? own.prefix === prefix : readNetworkBridge(xml) === names.bridge(prefix)) found.networks.push(n);
  }
  for (const p of parseNameList((await virsh(uri, ['pool-list', '--all', '--name'])).stdout)) {
    if (p !== names.pool(prefix)) continue;
    const xml = await xmlOf(uri, ['pool-dumpxml', '--inactive', p]);
    if (!xml || !readPoolPath(xml)?.endsWith(`/followme-${prefix}`)) continue;
    found.pools.push(p);
    const info = (await virsh(uri, ['pool-info', p])).stdout;
    if (!/State:\s+running/.test(info)) await virsh(uri, ['pool-start', p]).catch(() => undefined);
    for (const v of await listVolumes(uri, p)) if (v.name.startsWith(`${prefix}-`)) found.volumes.push({ pool: p, name: v.name });
  }
  return found;
}

export function isEmpty(f: FoundObjects): boolean {
  return !f.domains.length && !f.networks.length && !f.pools.length && !f.volumes.length;
}
