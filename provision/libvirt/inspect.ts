// Reads back what libvirt holds: our <metadata> element, network addresses.
import { XMLParser } from 'fast-xml-parser';
import type { Ownership } from '../plan/types.js';

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', removeNSPrefix: true });

type Node = Record<string, unknown>;

export function readOwnership(xml: string, root: 'domain' | 'network'): Ownership | undefined {
  const doc = parser.parse(xml) as Node;
  const fm = ((doc[root] as Node | undefined)?.['metadata'] as Node | undefined)?.['followme'] as Node | undefined;
  if (!fm) return undefined;
  const s = (k: string) => (fm[k] === undefined ? undefined : String(fm[k]));
  const prefix = s('prefix');
  const kind = s('kind');
  const specHash = s('spec-hash');
  if (!prefix || (kind !== 'domain' && kind !== 'network') || !specHash) return undefined;
  return {
    prefix,
    kind,
    specHash,
    ...(s('node') !== undefined ? { node: s('node')! } : {}),
    ...(s('role') !== undefined ? { role: s('role')! } : {}),
  };
}

export function readNetworkBridge(xml: string): string | undefined {
  const net = (parser.parse(xml) as Node)['network'] as Node | undefined;
  const b = net?.['bridge'] as Node | undefined;
  return b?.['@name'] === undefined ? undefined : String(b['@name']);
}

/** Every IPv4 address/prefix a network XML declares. */
export function readNetworkAddresses(xml: string): { address: string; prefixLength: number }[] {
  const net = (parser.parse(xml) as Node)['network'] as Node | undefined;
  const ips = net?.['ip'];
  const list = (Array.isArray(ips) ? ips : ips ? [ips] : []) as Node[];
  const out: { address: string; prefixLength: number }[] = [];
  for (const ip of list) {
    const address = ip['@address'];
    if (typeof address !== 'string' || address.includes(':')) continue;
    let prefixLength = Number(ip['@prefix']);
    const nm = ip['@netmask'];
    if (typeof nm === 'string') prefixLength = nm.split('.').reduce((a, o) => a + (Number(o).toString(2).match(/1/g)?.length ?? 0), 0);
    if (Number.isFinite(prefixLength)) out.push({ address, prefixLength });
  }
  return out;
}

export function readPoolPath(xml: string): string | undefined {
  const pool = (parser.parse(xml) as Node)['pool'] as Node | undefined;
  const p = (pool?.['target'] as Node | undefined)?.['path'];
  return p === undefined ? undefined : String(p);
}

export function readVolumeCapacity(xml: string): number | undefined {
  const vol = (parser.parse(xml) as Node)['volume'] as Node | undefined;
  const c = vol?.['capacity'] as Node | number | undefined;
  const v = typeof c === 'object' ? c?.['#text'] : c;
  return v === undefined ? undefined : Number(v);
}

/** The DHCP reservations (<host mac name ip/>) of a network's first IPv4 range. */
export function readNetworkHosts(xml: string): { name: string; mac: string; ip: string }[] {
  const net = (parser.parse(xml) as Node)['network'] as Node | undefined;
  const ips = net?.['ip'];
  const first = (Array.isArray(ips) ? ips[0] : ips) as Node | undefined;
  const hosts = (first?.['dhcp'] as Node | undefined)?.['host'];
  const list = (Array.isArray(hosts) ? hosts : hosts ? [hosts] : []) as Node[];
  return list.map((h) => ({ name: String(h['@name'] ?? ''), mac: String(h['@mac'] ?? '').toLowerCase(), ip: String(h['@ip'] ?? '') }));
}
