// topology + image + keys → plan. Pure: no I/O, no clock, no randomness, so
// the Pulumi program, the CLI-less runner and the unit tests all see the same
// names, addresses and specs for the same input.
import { createHash } from 'node:crypto';
import { resolveNode, type Topology } from '../topology/schema.js';
import { hostAddress, hostCount, netmask, parseSubnet } from '../../common/net.js';
import { CONTAINER_ADDRESSES, firstNodeHost } from '../topology/validate.js';
import type { TestbedKeys } from '../testbed/keys.js';
import { nodeSeedFiles, NFS_EXPORT, NFS_MOUNT_POINT } from './seed-files.js';
import type { DomainItem, Hypervisor, NetworkItem, Plan, PlannedNode, PoolItem, VolumeItem } from './types.js';
import { GUEST_MTU_ACROSS_HOSTS, vxlanItems } from './vxlan.js';

/** What the image builder hands the planner: files on the controller. */
export interface GuestImage {
  key: string;
  rootfs: string;
  /** Direct kernel boot (our Debian image); absent: boot the disk's own loader (cloud images). */
  kernel?: string;
  initrd?: string;
  cmdline?: string;
}

export interface PlanInputs {
  topology: Topology;
  image: GuestImage;
  keys: TestbedKeys;
  /** Per libvirt URI: what the host can run (probed by the applier). */
  hypervisors: Record<string, Hypervisor>;
  /** Directory for dir pools on each libvirt host. */
  poolRoot?: string;
}

export const DEFAULT_POOL_ROOT = '/var/lib/libvirt/images';
/** All edges get one CPU model, so CRIU restores on any of them. */
export const CPU_MODEL: Record<Hypervisor, string> = { kvm: 'host-model', qemu: 'qemu64' };

export function specHash(spec: unknown): string {
  return createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
}

/** A locally administered MAC in QEMU's range, stable for (prefix, node). */
export function macFor(prefix: string, node: string): string {
  const h = createHash('sha256').update(`${prefix}/${node}`).digest();
  return ['52', '54', '00', ...[h[0]!, h[1]!, h[2]!].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

export const names = {
  pool: (prefix: string) => `${prefix}-pool`,
  network: (prefix: string) => `${prefix}-net`,
  bridge: (prefix: string) => `fm-${prefix}`,
  domain: (prefix: string, node: string) => `${prefix}-${node}`,
  disk: (prefix: string, node: string) => `${prefix}-${node}.qcow2`,
  seed: (prefix: string, node: string) => `${prefix}-${node}-seed.iso`,
  base: (prefix: string, key: string) => `${prefix}-base-${key.slice(0, 12)}.qcow2`,
  kernel: (prefix: string, key: string) => `${prefix}-vmlinuz-${key.slice(0, 12)}`,
  initrd: (prefix: string, key: string) => `${prefix}-initrd-${key.slice(0, 12)}`,
  consoleLog: (prefix: string, node: string) => `/var/log/libvirt/qemu/${prefix}-${node}-serial.log`,
};

export function buildPlan(inp: PlanInputs): Plan {
  const t = inp.topology;
  const prefix = t.prefix;
  const subnet = parseSubnet(t.subnet);
  if (!subnet) throw new Error(`unvalidated topology: bad subnet ${t.subnet}`);
  const poolRoot = inp.poolRoot ?? DEFAULT_POOL_ROOT;
  const nodes = t.nodes.map((n) => resolveNode(t, n));
  const addr = new Map(nodes.map((n, i) => [n.name, hostAddress(subnet, firstNodeHost(subnet) + i)]));
  const nfsNode = nodes.find((n) => n.role === 'nfs');
  const nfs = nfsNode ? { server: addr.get(nfsNode.name)!, export: NFS_EXPORT, mountPoint: NFS_MOUNT_POINT } : undefined;

  const uris = [...new Set(nodes.map((n) => n.libvirtUri))];
  // Across hosts the first host's network is the segment's only gateway and DHCP server; the others are bridges joined to it by VXLAN.
  const acrossHosts = uris.length > 1;
  const mtu = acrossHosts ? GUEST_MTU_ACROSS_HOSTS : undefined;
  const pools: PoolItem[] = uris.map((uri) => ({
    kind: 'pool',
    uri,
    name: names.pool(prefix),
    path: `${poolRoot}/followme-${prefix}`,
  }));
  const poolPath = (uri: string) => pools.find((p) => p.uri === uri)!.path;

  const networks: NetworkItem[] = uris.map((uri, i) => {
    const served = acrossHosts ? (i === 0 ? nodes : []) : nodes.filter((n) => n.libvirtUri === uri);
    const spec = {
      kind: 'network' as const,
      uri,
      name: names.network(prefix),
      bridge: names.bridge(prefix),
      gateway: hostAddress(subnet, 1),
      netmask: netmask(subnet),
      subnet: t.subnet,
      hosts: served.map((n) => ({ name: n.name, mac: macFor(prefix, n.name), ip: addr.get(n.name)! })),
      ...(acrossHosts && i > 0 ? { bridgeOnly: true as const } : {}),
      ...(mtu ? { mtu } : {}),
    };
    return { ...spec, specHash: specHash(spec) };
  });

  const volumes: VolumeItem[] = [];
  const vol = (uri: string, name: string) => ({ kind: 'volume' as const, uri, pool: names.pool(prefix), name, path: `${poolPath(uri)}/${name}` });
  for (const uri of uris) {
    volumes.push({ ...vol(uri, names.base(prefix, inp.image.key)), source: 'upload', file: inp.image.rootfs, format: 'qcow2' });
    if (inp.image.kernel && inp.image.initrd) {
      volumes.push({ ...vol(uri, names.kernel(prefix, inp.image.key)), source: 'upload', file: inp.image.kernel, format: 'raw' });
      volumes.push({ ...vol(uri, names.initrd(prefix, inp.image.key)), source: 'upload', file: inp.image.initrd, format: 'raw' });
    }
  }
  const domains: DomainItem[] = [];
  const planned: PlannedNode[] = [];
  for (const n of nodes) {
    const uri = n.libvirtUri;
    const hostKey = inp.keys.hosts[n.name];
    if (!hostKey) throw new Error(`no host key generated for node ${n.name}`);
    const base = vol(uri, names.base(prefix, inp.image.key));
    volumes.push({ ...vol(uri, names.disk(prefix, n.name)), source: 'overlay', capacityGiB: n.diskGiB, backingPath: base.path });
    volumes.push({
      ...vol(uri, names.seed(prefix, n.name)),
      source: 'seed',
      label: 'cidata',
      files: nodeSeedFiles({
        prefix,
        node: n.name,
        role: n.role,
        hostKey,
        clientPublicKey: inp.keys.client.publicKey,
        hosts: nodes.map((m) => ({ name: m.name, ip: addr.get(m.name)!, role: m.role })),
        nfs,
        bandwidthMbit: n.bandwidthMbit,
        mac: macFor(prefix, n.name),
        ...(mtu ? { mtu } : {}),
      }),
    });
    const hypervisor = inp.hypervisors[uri];
    if (!hypervisor) throw new Error(`hypervisor of ${uri} was not probed`);
    const spec = {
      kind: 'domain' as const,
      uri,
      name: names.domain(prefix, n.name),
      node: n.name,
      role: n.role,
      hypervisor,
      cpuModel: CPU_MODEL[hypervisor],
      vcpus: n.vcpus,
      memoryMiB: n.memoryMiB,
      boot:
        inp.image.kernel && inp.image.initrd
          ? {
              kernel: vol(uri, names.kernel(prefix, inp.image.key)).path,
              initrd: vol(uri, names.initrd(prefix, inp.image.key)).path,
              cmdline: inp.image.cmdline ?? 'root=/dev/vda rw console=ttyS0,115200',
            }
          : undefined,
      disk: { pool: names.pool(prefix), volume: names.disk(prefix, n.name) },
      seed: { pool: names.pool(prefix), volume: names.seed(prefix, n.name) },
      network: names.network(prefix),
      mac: macFor(prefix, n.name),
      bandwidthMbit: n.bandwidthMbit,
      consoleLog: names.consoleLog(prefix, n.name),
    };
    domains.push({ ...spec, specHash: specHash(spec) });
    planned.push({
      name: n.name,
      role: n.role,
      ip: addr.get(n.name)!,
      mac: spec.mac,
      libvirtUri: uri,
      domain: spec.name,
      consoleLog: spec.consoleLog,
      hostPublicKey: hostKey.publicKey,
      ...(n.host ? { host: n.host } : {}),
    });
  }
  return {
    prefix,
    subnet: t.subnet,
    sshUser: t.sshUser ?? 'root',
    clientPrivateKeyPath: inp.keys.client.privateKeyPath,
    ...(nfs ? { nfs } : {}),
    containerAddresses: Array.from({ length: CONTAINER_ADDRESSES }, (_, i) => {
      const ip = hostAddress(subnet, hostCount(subnet) - CONTAINER_ADDRESSES + 1 + i);
      return { ip, mac: macFor(prefix, `container/${ip}`) };
    }),
    pools,
    networks,
    volumes,
    domains,
    vxlans: acrossHosts ? vxlanItems(t, uris, names.bridge(prefix)) : [],
    ...(mtu ? { mtu } : {}),
    nodes: planned,
  };
}
