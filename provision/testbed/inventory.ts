// The inventory as the testbed makes it: from the plan, written atomically
// as a JSON file (the schema and the reader are in common/inventory.ts).
import { chmodSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { validateInventory, type Inventory } from '../../common/inventory.js';
import type { Plan } from '../plan/types.js';

export function inventoryFromPlan(plan: Plan, stack?: string): Inventory {
  return {
    version: 1,
    prefix: plan.prefix,
    ...(stack ? { stack } : {}),
    subnet: plan.subnet,
    ...(plan.nfs ? { nfs: plan.nfs } : {}),
    containerAddresses: plan.containerAddresses,
    ...(plan.mtu ? { mtu: plan.mtu } : {}),
    nodes: plan.nodes.map((n) => ({
      name: n.name,
      role: n.role,
      ip: n.ip,
      mac: n.mac,
      libvirtUri: n.libvirtUri,
      domain: n.domain,
      sshUser: plan.sshUser,
      hostPublicKey: n.hostPublicKey,
      privateKeyPath: plan.clientPrivateKeyPath,
      consoleLog: n.consoleLog,
    })),
  };
}

export function writeInventory(path: string, inv: Inventory): void {
  validateInventory(inv, path);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(inv, null, 2)}\n`, { mode: 0o644 });
  chmodSync(tmp, 0o644);
  renameSync(tmp, path);
}
