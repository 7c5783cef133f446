// Validates a topology: JSON schema first (ajv), then the rules a schema
// cannot say (subnet ranges and arithmetic, libvirt URI allow-list, unique
// names). Every error names the key, shows the value cut short and says
// what is allowed.
import { ConfigError } from '../../common/errors.js';
import { formatProblems, newAjv, schemaProblems, type SchemaProblem } from '../../common/input/ajv.js';
import { shown } from '../../common/input/clip.js';
import { isLocalUri, libvirtUriProblem, libvirtUriTransport } from '../../common/input/libvirt-uri.js';
import { testbedSubnetProblem } from '../../common/input/net-rules.js';
import { hostCount, inSubnet, parseSubnet, type Ipv4Subnet } from '../../common/net.js';
import { coverageGaps } from '../../common/road-cells.js';
import { resolveNode, TopologySchema, type Topology } from './schema.js';

const checkSchema = newAjv().compile<Topology>(TopologySchema);

/** Addresses kept for containers (the last hosts of the subnet): a container keeps its address on any edge. */
export const CONTAINER_ADDRESSES = 4;

/**
 * The host number of the first node; .1 is the libvirt gateway. Nodes start
 * at .10, except in subnets too small for that (a /28 has 14 hosts), where
 * they start at .2.
 */
export function firstNodeHost(s: Ipv4Subnet): number {
  return hostCount(s) >= 30 ? 10 : 2;
}

/** How many nodes fit between the first node address and the container addresses at the top. */
export function nodeCapacity(s: Ipv4Subnet): number {
  return hostCount(s) - CONTAINER_ADDRESSES - firstNodeHost(s) + 1;
}

function refuse(problems: SchemaProblem[]): never {
  throw new ConfigError(`invalid configuration:\n${formatProblems(problems)}`, problems[0]?.key);
}

/**
 * Checks `data` against the topology schema and the rules beyond it.
 * `source` names where the data came from (a file path and key) for messages.
 */
export function validateTopology(data: unknown, source = 'topology'): Topology {
  if (!checkSchema(data)) refuse(schemaProblems(source, checkSchema.errors));
  const t = data;
  const problems: SchemaProblem[] = [];
  const subnetProblem = testbedSubnetProblem(t.subnet);
  if (subnetProblem) problems.push({ key: `${source}.subnet`, text: `${source}.subnet = ${shown(t.subnet)}: ${subnetProblem}` });
  const uris: [string, string | undefined][] = [
    [`${source}.defaults.libvirtUri`, t.defaults?.libvirtUri],
    ...t.nodes.map((n, i): [string, string | undefined] => [`${source}.nodes[${i}].libvirtUri`, n.libvirtUri]),
  ];
  for (const [key, uri] of uris) {
    const why = uri === undefined ? undefined : libvirtUriProblem(uri);
    if (why) problems.push({ key, text: `${key} = ${shown(uri)}: ${why}` });
  }
  const names = new Set<string>();
  t.nodes.forEach((n, i) => {
    if (names.has(n.name)) problems.push({ key: `${source}.nodes[${i}].name`, text: `${source}.nodes[${i}].name = "${n.name}": node names must be unique` });
    names.add(n.name);
  });
  const nfs = t.nodes.filter((n) => n.role === 'nfs');
  if (nfs.length > 1) problems.push({ key: `${source}.nodes`, text: `${source}.nodes: at most one node may have role "nfs" (found ${nfs.length})` });
  if (!t.nodes.some((n) => n.role === 'edge')) problems.push({ key: `${source}.nodes`, text: `${source}.nodes: at least one node must have role "edge"` });
  const subnet = parseSubnet(t.subnet);
  if (!subnetProblem && subnet && t.nodes.length > nodeCapacity(subnet)) {
    problems.push({
      key: `${source}.subnet`,
      text: `${source}.subnet = ${shown(t.subnet)}: room for ${nodeCapacity(subnet)} nodes (from host .${firstNodeHost(subnet)}, ${CONTAINER_ADDRESSES} container addresses at the top), not ${t.nodes.length}`,
    });
  }
  problems.push(...roadProblems(t, source));
  problems.push(...hostProblems(t, source));
  if (problems.length) refuse(problems);
  return t;
}

/** A road with fewer has one border: nothing to follow. */
export const MIN_ROAD_EDGES = 3;

/**
 * Edges with a place on a road: all of them or none, the NFS node none, and
 * cells that leave no stretch of the road between the first and the last
 * edge uncovered (or where the gap is).
 */
function roadProblems(t: Topology, source: string): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const placed = t.nodes.filter((n) => n.position !== undefined || n.radiusM !== undefined);
  if (placed.length === 0) return problems;
  t.nodes.forEach((n, i) => {
    const key = `${source}.nodes[${i}]`;
    if (n.role === 'nfs' && (n.position || n.radiusM !== undefined))
      problems.push({ key, text: `${key} (${n.name}): the NFS node has no cell; remove its position and radiusM` });
    if (n.role === 'edge' && (!n.position || n.radiusM === undefined))
      problems.push({ key, text: `${key} (${n.name}): every edge needs a position and a radiusM once one has (the road runs through them in order)` });
  });
  if (problems.length) return problems;
  const onRoad = t.nodes.filter((n) => n.role === 'edge').length;
  if (onRoad < MIN_ROAD_EDGES)
    return [
      {
        key: `${source}.nodes`,
        text: `${source}.nodes: a road needs at least three edges; it has ${onRoad} (for one move between two edges, leave position and radiusM out)`,
      },
    ];
  const cells = t.nodes.filter((n) => n.role === 'edge').map((n) => ({ edge: n.name, x: n.position!.x, y: n.position!.y, radiusM: n.radiusM! }));
  for (const g of coverageGaps(cells))
    problems.push({
      key: `${source}.nodes`,
      text: `${source}.nodes: no cell covers the road from ${Math.round(g.fromM)} m to ${Math.round(g.toM)} m along it (between ${g.between[0]} and ${g.between[1]}): widen radiusM or move the edges closer`,
    });
  return problems;
}

/** Transports a remote host is reached by: libvirt and the VXLAN set-up both go over SSH, to the pinned host key. */
const REMOTE_HOST_TRANSPORTS = ['ssh', 'libssh', 'libssh2'];

/**
 * A testbed on several hosts: every node on one of them (named, and placed
 * by it alone), names, URIs and underlay addresses unique, an underlay
 * address outside the testbed's subnet, and a remote host reached over SSH
 * with its host key pinned.
 */
function hostProblems(t: Topology, source: string): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const add = (key: string, text: string) => problems.push({ key, text: `${key}${text}` });
  if (!t.hosts) {
    t.nodes.forEach((n, i) => {
      if (n.host !== undefined) add(`${source}.nodes[${i}].host`, ` = "${n.host}": there are no hosts; name them in ${source}.hosts, or leave host out`);
    });
    // Nodes on two libvirt hosts share one L2 segment only through the VXLAN between the hosts, which needs their underlay addresses.
    const first = resolveNode(t, t.nodes[0]!).libvirtUri;
    const elsewhere = t.nodes.findIndex((n) => resolveNode(t, n).libvirtUri !== first);
    if (elsewhere >= 0)
      add(
        `${source}.nodes[${elsewhere}].libvirtUri`,
        ` (${t.nodes[elsewhere]!.name}): on another libvirt host than ${t.nodes[0]!.name}; a testbed on several hosts names them in ${source}.hosts (each with its underlay address) and puts each node on one with host`,
      );
    return problems;
  }
  const known = t.hosts.map((h) => h.name);
  const firstOf = (values: string[], i: number) => values.indexOf(values[i]!) !== i;
  const subnet = parseSubnet(t.subnet);
  t.hosts.forEach((h, i) => {
    const key = `${source}.hosts[${i}]`;
    if (firstOf(known, i)) add(`${key}.name`, ` = "${h.name}": host names must be unique`);
    if (
      firstOf(
        t.hosts!.map((x) => x.libvirtUri),
        i,
      )
    )
      add(`${key}.libvirtUri`, ` = ${shown(h.libvirtUri)}: another host has this URI; each host is one libvirtd`);
    if (
      firstOf(
        t.hosts!.map((x) => x.underlay),
        i,
      )
    )
      add(`${key}.underlay`, ` = ${h.underlay}: another host has this underlay address; each host needs its own`);
    if (subnet && inSubnet(subnet, h.underlay))
      add(`${key}.underlay`, ` = ${h.underlay}: inside the testbed's subnet ${t.subnet}; the underlay is the network between the hosts, not the testbed's`);
    const why = libvirtUriProblem(h.libvirtUri);
    if (why) add(`${key}.libvirtUri`, ` = ${shown(h.libvirtUri)}: ${why}`);
    else if (!isLocalUri(h.libvirtUri)) {
      const transport = libvirtUriTransport(h.libvirtUri);
      if (!REMOTE_HOST_TRANSPORTS.includes(transport))
        add(`${key}.libvirtUri`, ` = ${shown(h.libvirtUri)}: a remote host is reached over SSH; use qemu+ssh, qemu+libssh or qemu+libssh2`);
      if (h.sshHostKey === undefined)
        add(`${key}.sshHostKey`, `: missing; a remote host's SSH host key must be pinned (its /etc/ssh/ssh_host_ed25519_key.pub)`);
    }
  });
  if (t.defaults?.libvirtUri !== undefined) add(`${source}.defaults.libvirtUri`, `: with hosts, each node's host places it; remove defaults.libvirtUri`);
  t.nodes.forEach((n, i) => {
    const key = `${source}.nodes[${i}]`;
    if (n.libvirtUri !== undefined) add(`${key}.libvirtUri`, ` (${n.name}): with hosts, the node's host places it; name it in host instead`);
    if (n.host === undefined) add(`${key}.host`, ` (${n.name}): missing; with hosts, every node names its host: one of ${known.join(', ')}`);
    else if (!known.includes(n.host)) add(`${key}.host`, ` = "${n.host}" (${n.name}): not a host; known: ${known.join(', ')}`);
  });
  return problems;
}
