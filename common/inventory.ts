// The inventory: how to reach every node of a testbed. The CLI-less runner
// writes it as a JSON file and the Pulumi program exports it as a stack
// output; both are checked against this one schema.
import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { ConfigError } from './errors.js';

const InventoryNode = Type.Object(
  {
    name: Type.String(),
    role: Type.Union([Type.Literal('edge'), Type.Literal('nfs')]),
    ip: Type.String({ pattern: '^\\d+\\.\\d+\\.\\d+\\.\\d+$' }),
    mac: Type.String(),
    libvirtUri: Type.String(),
    domain: Type.String(),
    sshUser: Type.String(),
    hostPublicKey: Type.String({ pattern: '^ssh-ed25519 ' }),
    privateKeyPath: Type.String(),
    consoleLog: Type.String(),
  },
  { additionalProperties: false },
);

export const InventorySchema = Type.Object(
  {
    version: Type.Literal(1),
    prefix: Type.String(),
    stack: Type.Optional(Type.String()),
    subnet: Type.String(),
    nfs: Type.Optional(
      Type.Object({ server: Type.String(), export: Type.String(), mountPoint: Type.String() }, { additionalProperties: false }),
    ),
    nodes: Type.Array(InventoryNode, { minItems: 1 }),
    containerAddresses: Type.Array(
      Type.Object({ ip: Type.String({ pattern: '^\\d+\\.\\d+\\.\\d+\\.\\d+$' }), mac: Type.String() }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);

export type Inventory = Static<typeof InventorySchema>;
export type InventoryNode = Static<typeof InventoryNode>;

const check = new Ajv({ allErrors: true, strict: true }).compile<Inventory>(InventorySchema);

export function validateInventory(data: unknown, source: string): Inventory {
  if (!check(data)) {
    const msg = (check.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
    throw new ConfigError(`${source}: not a followme inventory: ${msg}`, 'inventory');
  }
  return data;
}

export function readInventory(path: string): Inventory {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read inventory ${path}: ${(cause as Error).message}`, 'inventory', { cause });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`${path}: not JSON: ${(cause as Error).message}`, 'inventory', { cause });
  }
  return validateInventory(data, path);
}
