// The one configuration surface of a testbed. The JSON schema and the
// TypeScript type come from the same TypeBox declaration, so they cannot drift.
import { Type, type Static } from '@sinclair/typebox';
import { CIDR_PATTERN, ED25519_PUBLIC_KEY_PATTERN, IPV4_PATTERN, NODE_NAME_PATTERN, PREFIX_PATTERN } from '../../common/input/patterns.js';

/** An http(s) URL of plain characters (it reaches debootstrap's and curl's argv). */
const HTTP_URL_PATTERN = '^https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~%/+-]*)?$';

const NodeName = Type.String({
  pattern: NODE_NAME_PATTERN,
  description: 'lower-case letters, digits and dashes, starting with a letter, at most 15 characters',
});

/** The shape only; validate.ts applies the allow-list of schemes and parameters (common/input/libvirt-uri.ts). */
export const LibvirtUri = Type.String({
  minLength: 1,
  maxLength: 2048,
  description: 'a libvirt QEMU URI such as qemu:///system or qemu+ssh://lab2/system',
});

const NodeSettings = {
  libvirtUri: Type.Optional(LibvirtUri),
  vcpus: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
  memoryMiB: Type.Optional(Type.Integer({ minimum: 512, maximum: 262144, description: 'guest memory in MiB' })),
  diskGiB: Type.Optional(Type.Integer({ minimum: 4, maximum: 2048, description: 'guest disk size in GiB' })),
  bandwidthMbit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100000, description: 'rate limit of the node link in Mbit/s' })),
};

const HostName = Type.String({
  pattern: NODE_NAME_PATTERN,
  description: 'lower-case letters, digits and dashes, starting with a letter, at most 15 characters',
});

/**
 * A libvirt host of a testbed that spans several: where its nodes run, and
 * the address the testbed's VXLAN reaches it at. validate.ts holds the rules
 * across hosts (names, URIs and addresses unique, a pinned key for remote ones).
 */
export const HostSpec = Type.Object(
  {
    name: HostName,
    libvirtUri: LibvirtUri,
    underlay: Type.String({ pattern: IPV4_PATTERN, description: "the host's IPv4 address on the network that carries the VXLAN between the hosts" }),
    sshHostKey: Type.Optional(
      Type.String({
        pattern: ED25519_PUBLIC_KEY_PATTERN,
        maxLength: 1024,
        description: "a remote host's SSH host key (an OpenSSH ed25519 public key line), pinned: libvirt and the VXLAN set-up connect only to it",
      }),
    ),
  },
  { additionalProperties: false },
);

/** Metres on the road's map (the trace's coordinates). */
const Metres = Type.Number({ minimum: -1e7, maximum: 1e7 });

export const NodeSpec = Type.Object(
  {
    name: NodeName,
    role: Type.Union([Type.Literal('edge'), Type.Literal('nfs')]),
    host: Type.Optional(Type.String({ pattern: NODE_NAME_PATTERN, description: 'the name of the host (in hosts) the node runs on' })),
    ...NodeSettings,
    position: Type.Optional(
      Type.Object(
        { x: Metres, y: Metres },
        { additionalProperties: false, description: "an edge's place on the road's map, in metres (the trace's coordinates)" },
      ),
    ),
    radiusM: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100000, description: "how far an edge's cell reaches, in metres" })),
  },
  { additionalProperties: false },
);

export const DebianImage = Type.Object(
  {
    kind: Type.Literal('debian'),
    suite: Type.Literal('trixie'),
    mirror: Type.Optional(Type.String({ pattern: HTTP_URL_PATTERN, maxLength: 2048, description: 'a Debian archive URL' })),
  },
  { additionalProperties: false },
);

export const CloudImage = Type.Object(
  {
    kind: Type.Literal('cloud-image'),
    url: Type.String({ pattern: HTTP_URL_PATTERN, maxLength: 2048, description: 'an http(s) URL of plain characters' }),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  },
  { additionalProperties: false },
);

export const TopologySchema = Type.Object(
  {
    prefix: Type.String({
      pattern: PREFIX_PATTERN,
      description: 'lower-case letters and digits, 2 to 12 characters: every libvirt object is named after it',
    }),
    subnet: Type.String({
      pattern: CIDR_PATTERN,
      maxLength: 18,
      description: 'an IPv4 network address with a prefix length from 16 to 28, e.g. 10.77.10.0/24',
    }),
    image: Type.Union([DebianImage, CloudImage]),
    sshUser: Type.Optional(Type.Literal('root')),
    hypervisor: Type.Optional(
      Type.Union([Type.Literal('auto'), Type.Literal('kvm'), Type.Literal('qemu')], {
        description: 'auto (KVM when it really works, else QEMU TCG), kvm, or qemu (TCG)',
      }),
    ),
    defaults: Type.Optional(Type.Object(NodeSettings, { additionalProperties: false })),
    hosts: Type.Optional(
      Type.Array(HostSpec, {
        minItems: 1,
        maxItems: 16,
        description: 'the libvirt hosts the nodes run on, joined by a VXLAN (absent: every node on its libvirtUri, by default this machine)',
      }),
    ),
    nodes: Type.Array(NodeSpec, { minItems: 1, maxItems: 32 }),
    latencyProfiles: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Type.String({ pattern: '^[a-z][a-z0-9-]{0,31}$', description: 'lower-case letters, digits and dashes' }),
            radioMs: Type.Number({ minimum: 0, maximum: 1000, description: "the radio's round trip, user to its cell's edge (ms)" }),
            perHopMs: Type.Number({ minimum: 0, maximum: 1000, description: "each backhaul hop's round trip, edge to the next edge (ms)" }),
          },
          { additionalProperties: false },
        ),
        { minItems: 1, maxItems: 16, description: "the user's latency as an emulation (mobility/latency.ts); the first is the default" },
      ),
    ),
  },
  { additionalProperties: false },
);

export type Topology = Static<typeof TopologySchema>;
export type NodeSpec = Static<typeof NodeSpec>;
export type HostSpec = Static<typeof HostSpec>;

/** Defaults used where neither the node nor `defaults` says. */
export const NODE_DEFAULTS = {
  libvirtUri: 'qemu:///system',
  vcpus: 1,
  memoryMiB: 1536,
  diskGiB: 8,
  bandwidthMbit: 1000,
} as const;

export interface ResolvedNode {
  name: string;
  role: 'edge' | 'nfs';
  /** The host in `hosts` the node runs on, when the topology names hosts. */
  host?: string;
  libvirtUri: string;
  vcpus: number;
  memoryMiB: number;
  diskGiB: number;
  bandwidthMbit: number;
}

export function resolveNode(t: Topology, n: NodeSpec): ResolvedNode {
  const d = { ...NODE_DEFAULTS, ...t.defaults };
  // With hosts, the node's host places it (validate.ts refuses a libvirtUri beside hosts).
  const host = t.hosts?.find((h) => h.name === n.host);
  return {
    name: n.name,
    role: n.role,
    ...(host ? { host: host.name } : {}),
    libvirtUri: host?.libvirtUri ?? n.libvirtUri ?? d.libvirtUri,
    vcpus: n.vcpus ?? d.vcpus,
    memoryMiB: n.memoryMiB ?? d.memoryMiB,
    diskGiB: n.diskGiB ?? d.diskGiB,
    bandwidthMbit: n.bandwidthMbit ?? d.bandwidthMbit,
  };
}
