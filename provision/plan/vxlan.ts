// One L2 segment across libvirt hosts: on each host, the testbed network's
// bridge gets a kernel VXLAN port (one VNI per testbed, unicast to the other
// hosts' underlay addresses, learning on, the destination port fixed). The
// first host's network keeps the gateway address and DHCP for every node;
// the others are bridges only. Guests and containers take an MTU the VXLAN's
// 50 bytes below a 1500-byte underlay, so nothing fragments. Pure.
import { createHash } from 'node:crypto';
import type { Topology } from '../topology/schema.js';
import type { VxlanItem } from './types.js';

/** IANA's VXLAN port. */
export const VXLAN_PORT = 4789;
/** An underlay of 1500 bytes less VXLAN's outer Ethernet, IPv4, UDP and VXLAN headers (14 + 20 + 8 + 8). */
export const GUEST_MTU_ACROSS_HOSTS = 1450;

/** The VXLAN device on each host: `vx-` and the prefix (at most 12 characters), within the kernel's 15. */
export const vxlanName = (prefix: string) => `vx-${prefix}`;

/** A testbed's VNI: from its prefix, 24 bits, never 0; two testbeds on the same hosts differ unless their prefixes collide. */
export function vniFor(prefix: string): number {
  const h = createHash('sha256').update(`followme-vxlan/${prefix}`).digest();
  return (((h[0]! << 16) | (h[1]! << 8) | h[2]!) % 0xfffffe) + 1;
}

/** One VXLAN port of `bridge` per host that runs nodes (`uris`: those hosts' URIs, the first host's first). */
export function vxlanItems(t: Topology, uris: readonly string[], bridge: string): VxlanItem[] {
  const hosts = uris.map((uri) => {
    const h = t.hosts?.find((x) => x.libvirtUri === uri);
    if (!h) throw new Error(`unvalidated topology: no host has the URI ${uri}`);
    return h;
  });
  return hosts.map((h) => ({
    kind: 'vxlan',
    uri: h.libvirtUri,
    host: h.name,
    ...(h.sshHostKey ? { hostKey: h.sshHostKey } : {}),
    name: vxlanName(t.prefix),
    bridge,
    vni: vniFor(t.prefix),
    port: VXLAN_PORT,
    local: h.underlay,
    remotes: hosts.filter((o) => o !== h).map((o) => o.underlay),
    mtu: GUEST_MTU_ACROSS_HOSTS,
  }));
}
