// What makes an address or a subnet usable for a testbed, beyond its shape.
import { parseIpv4, parseSubnet, subnetsOverlap, type Ipv4Subnet } from '../net.js';

/** Ranges no testbed network may overlap: libvirt would route, answer or drop them in surprising ways. */
const SPECIAL_RANGES: [string, string][] = [
  ['0.0.0.0/8', '"this network" (0.0.0.0/8)'],
  ['127.0.0.0/8', 'loopback (127.0.0.0/8)'],
  ['169.254.0.0/16', 'link-local (169.254.0.0/16)'],
  ['224.0.0.0/4', 'multicast (224.0.0.0/4)'],
  ['240.0.0.0/4', 'reserved (240.0.0.0/4)'],
];

/** Why `cidr` cannot be a testbed subnet, or undefined when it can. */
export function testbedSubnetProblem(cidr: string, prefixLength = { min: 16, max: 28 }): string | undefined {
  const s = parseSubnet(cidr);
  if (!s) return 'not an IPv4 network in CIDR notation (e.g. 10.77.10.0/24; no leading zeros, host bits zero)';
  if (s.prefixLength < prefixLength.min || s.prefixLength > prefixLength.max) {
    return `prefix length /${s.prefixLength} is outside /${prefixLength.min}–/${prefixLength.max}`;
  }
  for (const [range, what] of SPECIAL_RANGES) {
    if (subnetsOverlap(s, parseSubnet(range)!)) return `overlaps ${what}; use a private range such as 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16`;
  }
  return undefined;
}

export function inSubnet(ip: string, s: Ipv4Subnet): boolean {
  const n = parseIpv4(ip);
  return n !== undefined && subnetsOverlap(s, { cidr: `${ip}/32`, network: n, prefixLength: 32 });
}

/** A unicast MAC (the group bit of the first octet clear): a multicast MAC on a NIC breaks it silently. */
export function isUnicastMac(mac: string): boolean {
  return (Number.parseInt(mac.slice(0, 2), 16) & 1) === 0;
}
