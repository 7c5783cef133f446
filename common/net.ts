// IPv4 arithmetic for subnets: parsing, overlap, nth host. Pure.
import { IPV4_PATTERN } from './input/patterns.js';

export interface Ipv4Subnet {
  cidr: string;
  network: number; // as unsigned 32-bit
  prefixLength: number;
}

const IPV4 = new RegExp(IPV4_PATTERN);

/** A dotted quad as an unsigned 32-bit number; undefined unless every part is 0–255 without leading zeros. */
export function parseIpv4(text: string): number | undefined {
  if (!IPV4.test(text)) return undefined;
  const parts = text.split('.').map(Number);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function formatIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

function mask(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

/** Parses "a.b.c.d/n"; the address must be the network address itself. */
export function parseSubnet(cidr: string): Ipv4Subnet | undefined {
  const [addr, len, ...rest] = cidr.split('/');
  if (rest.length || addr === undefined || len === undefined || !/^(?:[0-9]|[12][0-9]|3[0-2])$/.test(len)) return undefined;
  const ip = parseIpv4(addr);
  const prefixLength = Number(len);
  if (ip === undefined || prefixLength > 32) return undefined;
  if ((ip & mask(prefixLength)) >>> 0 !== ip) return undefined;
  return { cidr, network: ip, prefixLength };
}

export function subnetFromAddress(ip: string, prefixLength: number): Ipv4Subnet | undefined {
  const n = parseIpv4(ip);
  if (n === undefined) return undefined;
  const network = (n & mask(prefixLength)) >>> 0;
  return { cidr: `${formatIpv4(network)}/${prefixLength}`, network, prefixLength };
}

export function subnetsOverlap(a: Ipv4Subnet, b: Ipv4Subnet): boolean {
  const m = mask(Math.min(a.prefixLength, b.prefixLength));
  return (a.network & m) >>> 0 === (b.network & m) >>> 0;
}

/** True when the address `ip` lies in `s` (its network and broadcast addresses included). */
export function inSubnet(s: Ipv4Subnet, ip: string): boolean {
  const n = parseIpv4(ip);
  return n !== undefined && (n & mask(s.prefixLength)) >>> 0 === s.network;
}

export function hostCount(s: Ipv4Subnet): number {
  return Math.max(0, 2 ** (32 - s.prefixLength) - 2);
}

/** The n-th host address (1 = first usable). Throws when outside the subnet. */
export function hostAddress(s: Ipv4Subnet, n: number): string {
  if (n < 1 || n > hostCount(s)) throw new RangeError(`host ${n} is outside ${s.cidr}`);
  return formatIpv4((s.network + n) >>> 0);
}

export function netmask(s: Ipv4Subnet): string {
  return formatIpv4(mask(s.prefixLength));
}
