// The plan: everything a testbed is made of, decided once, without I/O.
// Appliers (Pulumi program, CLI-less runner) only carry it out.

export type Hypervisor = 'kvm' | 'qemu';

/** Marks objects as ours; stored in libvirt <metadata> where libvirt keeps it. */
export interface Ownership {
  prefix: string;
  kind: 'network' | 'domain';
  node?: string;
  role?: string;
  specHash: string;
}

export interface PoolItem {
  kind: 'pool';
  uri: string;
  name: string;
  path: string;
}

export interface NetworkItem {
  kind: 'network';
  uri: string;
  name: string;
  bridge: string;
  gateway: string;
  netmask: string;
  subnet: string;
  hosts: { name: string; mac: string; ip: string }[];
  /** On a host other than the testbed's first (vxlan.ts): a bridge without the gateway address or DHCP, which the first host's serves. */
  bridgeOnly?: true;
  /** Set when the testbed spans hosts: the VXLAN's room below the underlay's 1500 bytes. */
  mtu?: number;
  specHash: string;
}

/** The testbed's L2 segment carried to and from one host (one per host when the nodes span several). */
export interface VxlanItem {
  kind: 'vxlan';
  /** The host's libvirt URI: the host the device is made on (over SSH for a remote one). */
  uri: string;
  host: string;
  /** The remote host's pinned SSH key; absent for this machine. */
  hostKey?: string;
  /** The device's name, a port of `bridge`. */
  name: string;
  bridge: string;
  vni: number;
  port: number;
  /** This host's underlay address, and the other hosts' (each gets a flooding entry: head-end replication, learning on). */
  local: string;
  remotes: string[];
  mtu: number;
}

/** A piece of a seed file: inline text, or a controller file's text (indented), so secrets stay in files. */
export type SeedPart = { content: string } | { fromFile: string; indent: number };

/** A file in the seed image: inline text, a file on the controller, or pieces of both. */
export type SeedFile = { path: string; mode: number } & ({ content: string } | { fromFile: string } | { parts: SeedPart[] });

export type VolumeItem = {
  kind: 'volume';
  uri: string;
  pool: string;
  name: string;
  /** Path of the volume inside the pool (dir pools: pool path + name). */
  path: string;
} & (
  | { source: 'upload'; file: string; format: 'qcow2' | 'raw' }
  | { source: 'overlay'; capacityGiB: number; backingPath: string }
  | { source: 'seed'; label: 'cidata'; files: SeedFile[] }
);

export interface DomainItem {
  kind: 'domain';
  uri: string;
  name: string;
  node: string;
  role: 'edge' | 'nfs';
  hypervisor: Hypervisor;
  cpuModel: string;
  vcpus: number;
  memoryMiB: number;
  /** Direct kernel boot; undefined boots the disk's own boot loader. */
  boot: { kernel: string; initrd: string; cmdline: string } | undefined;
  disk: { pool: string; volume: string };
  seed: { pool: string; volume: string };
  network: string;
  mac: string;
  bandwidthMbit: number;
  consoleLog: string;
  specHash: string;
}

export interface PlannedNode {
  name: string;
  role: 'edge' | 'nfs';
  ip: string;
  mac: string;
  libvirtUri: string;
  domain: string;
  consoleLog: string;
  hostPublicKey: string;
  /** The host (in the topology's hosts) the node runs on, when it names hosts. */
  host?: string;
}

export interface Plan {
  prefix: string;
  subnet: string;
  sshUser: string;
  clientPrivateKeyPath: string;
  /** Where edges mount the NFS share (three-vm-nfs), or undefined. */
  nfs?: { server: string; export: string; mountPoint: string };
  /** Addresses for containers, outside the DHCP reservations; each with a fixed MAC. */
  containerAddresses: { ip: string; mac: string }[];
  pools: PoolItem[];
  networks: NetworkItem[];
  volumes: VolumeItem[];
  domains: DomainItem[];
  /** Empty unless the nodes span hosts. */
  vxlans: VxlanItem[];
  /** The guests' and containers' MTU when the nodes span hosts (the VXLAN's overhead below the underlay's). */
  mtu?: number;
  nodes: PlannedNode[];
}

export type PlanItem = PoolItem | NetworkItem | VolumeItem | DomainItem | VxlanItem;
