// The inventory: how to reach every node of a testbed. The CLI-less runner
// writes it as a JSON file and the Pulumi program exports it as a stack
// output; both are checked against this one schema. Its values reach
// remote commands, LXC configs and rsyncd.conf, so every one has a strict
// shape, and the rules beyond the schema (addresses inside the subnet,
// allowed libvirt URIs, a usable private key) are checked on reading.
import { Type, type Static } from '@sinclair/typebox';
import ssh2 from 'ssh2';
import { ConfigError } from './errors.js';
import { formatProblems, newAjv, schemaProblems, type SchemaProblem } from './input/ajv.js';
import { shown } from './input/clip.js';
import { libvirtUriProblem } from './input/libvirt-uri.js';
import { parseJsonInput } from './input/json.js';
import { inSubnet, isUnicastMac } from './input/net-rules.js';
import {
  ABSOLUTE_PATH_PATTERN,
  CIDR_PATTERN,
  DOMAIN_NAME_PATTERN,
  ED25519_PUBLIC_KEY_PATTERN,
  IPV4_PATTERN,
  MAC_PATTERN,
  NODE_NAME_PATTERN,
  PLAIN_ABSOLUTE_PATH_PATTERN,
  PREFIX_PATTERN,
  STACK_NAME_PATTERN,
  USER_NAME_PATTERN,
} from './input/patterns.js';
import { privateKeyProblem } from './input/private-key.js';
import { readInputFile } from './input/read.js';
import { parseSubnet } from './net.js';

const Ipv4 = Type.String({ pattern: IPV4_PATTERN, maxLength: 15, description: 'an IPv4 address, no leading zeros' });
const Mac = Type.String({ pattern: MAC_PATTERN, maxLength: 17, description: 'a MAC address, six hex bytes separated by colons' });
const HostPath = Type.String({ pattern: ABSOLUTE_PATH_PATTERN, maxLength: 4096, description: 'an absolute path on the controller' });
const PlainPath = Type.String({ pattern: PLAIN_ABSOLUTE_PATH_PATTERN, maxLength: 256, description: 'an absolute path of letters, digits, . _ - and /' });

const InventoryNode = Type.Object(
  {
    name: Type.String({ pattern: NODE_NAME_PATTERN, description: 'a node name: lower-case letters, digits, dashes' }),
    role: Type.Union([Type.Literal('edge'), Type.Literal('nfs')]),
    ip: Ipv4,
    mac: Mac,
    libvirtUri: Type.String({ minLength: 1, maxLength: 2048 }),
    domain: Type.String({ pattern: DOMAIN_NAME_PATTERN, description: 'a libvirt domain name as followme makes it' }),
    sshUser: Type.String({ pattern: USER_NAME_PATTERN, description: 'a user name' }),
    /** sshd's port on the node; 22 when absent. */
    sshPort: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    hostPublicKey: Type.String({ pattern: ED25519_PUBLIC_KEY_PATTERN, maxLength: 1024, description: 'an OpenSSH ed25519 public key line' }),
    privateKeyPath: HostPath,
    consoleLog: HostPath,
  },
  { additionalProperties: false },
);

export const InventorySchema = Type.Object(
  {
    version: Type.Literal(1),
    prefix: Type.String({ pattern: PREFIX_PATTERN, description: 'the testbed prefix' }),
    stack: Type.Optional(Type.String({ pattern: STACK_NAME_PATTERN })),
    subnet: Type.String({ pattern: CIDR_PATTERN, maxLength: 18, description: 'an IPv4 network in CIDR notation' }),
    nfs: Type.Optional(Type.Object({ server: Ipv4, export: PlainPath, mountPoint: PlainPath }, { additionalProperties: false })),
    nodes: Type.Array(InventoryNode, { minItems: 1, maxItems: 32 }),
    containerAddresses: Type.Array(Type.Object({ ip: Ipv4, mac: Mac }, { additionalProperties: false }), { maxItems: 64 }),
    /** The guests' and containers' MTU when the testbed spans hosts (below the VXLAN's overhead); absent: the default 1500. */
    mtu: Type.Optional(Type.Integer({ minimum: 576, maximum: 9000, description: 'an MTU in bytes' })),
  },
  { additionalProperties: false },
);

export type Inventory = Static<typeof InventorySchema>;
export type InventoryNode = Static<typeof InventoryNode>;

const check = newAjv().compile<Inventory>(InventorySchema);

/** What the schema cannot say; `checkKeys` also reads each private key file (a file on this controller). */
function ruleProblems(inv: Inventory, source: string, checkKeys: boolean): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const add = (key: string, value: unknown, why: string) => problems.push({ key: `${source}.${key}`, text: `${source}.${key} = ${shown(value)}: ${why}` });
  const subnet = parseSubnet(inv.subnet);
  if (!subnet) add('subnet', inv.subnet, 'not a network address (host bits must be zero)');
  const names = new Set<string>();
  const keys = new Map<string, string>();
  inv.nodes.forEach((n, i) => {
    if (names.has(n.name)) add(`nodes[${i}].name`, n.name, 'node names must be unique');
    names.add(n.name);
    if (subnet && !inSubnet(n.ip, subnet)) add(`nodes[${i}].ip`, n.ip, `not inside the testbed subnet ${inv.subnet}`);
    if (!isUnicastMac(n.mac)) add(`nodes[${i}].mac`, n.mac, 'a multicast MAC (first octet odd); a NIC needs a unicast one');
    const uriProblem = libvirtUriProblem(n.libvirtUri);
    if (uriProblem) add(`nodes[${i}].libvirtUri`, n.libvirtUri, uriProblem);
    const parsed = ssh2.utils.parseKey(n.hostPublicKey);
    if (parsed instanceof Error) add(`nodes[${i}].hostPublicKey`, n.hostPublicKey, `not a usable public key (${parsed.message})`);
    if (checkKeys && !keys.has(n.privateKeyPath)) {
      const why = privateKeyProblem(n.privateKeyPath);
      keys.set(n.privateKeyPath, why ?? '');
      if (why) problems.push({ key: `${source}.nodes[${i}].privateKeyPath`, text: `${source}.nodes[${i}].privateKeyPath: ${why}` });
    }
  });
  inv.containerAddresses.forEach((a, i) => {
    if (subnet && !inSubnet(a.ip, subnet)) add(`containerAddresses[${i}].ip`, a.ip, `not inside the testbed subnet ${inv.subnet}`);
    if (!isUnicastMac(a.mac)) add(`containerAddresses[${i}].mac`, a.mac, 'a multicast MAC (first octet odd); a container NIC needs a unicast one');
  });
  if (inv.nfs) {
    const server = inv.nodes.find((n) => n.role === 'nfs');
    if (!server || server.ip !== inv.nfs.server) add('nfs.server', inv.nfs.server, 'must be the IP of the node with role "nfs"');
  }
  return problems;
}

/**
 * Checks an inventory. `checkKeys` (on when read from a file for use) also
 * checks that each private key file is a usable key readable by its owner only.
 */
export function validateInventory(data: unknown, source: string, opts: { checkKeys?: boolean } = {}): Inventory {
  let problems: SchemaProblem[];
  if (!check(data)) problems = schemaProblems(source, check.errors);
  else problems = ruleProblems(data, source, opts.checkKeys ?? false);
  if (problems.length) throw new ConfigError(`${source}: not a usable followme inventory:\n${formatProblems(problems)}`, problems[0]!.key);
  return data as Inventory;
}

/** Reads an inventory file (at most 1 MiB, a regular file) and checks it, keys included. */
export function readInventory(path: string, flag = 'inventory'): Inventory {
  const text = readInputFile(path, { what: 'inventory', key: flag });
  return validateInventory(parseJsonInput(text, `--${flag}: ${path}`, flag), path, { checkKeys: true });
}
