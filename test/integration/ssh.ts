// Test helper: run argv on an inventory node over the real SSH transport.
import { SshConnection } from '../../migration/ssh/transport.js';
import { sshTarget } from '../../provision/testbed/readiness.js';
import type { Inventory } from '../../provision/testbed/inventory.js';

export async function onNode<T>(inv: Inventory, name: string, fn: (c: SshConnection) => Promise<T>): Promise<T> {
  const node = inv.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`no node ${name} in inventory ${inv.prefix}`);
  return SshConnection.with(sshTarget(inv, node), fn);
}
