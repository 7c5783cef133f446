// Test helper: run argv on an inventory node over the real SSH transport.
import { SshConnection } from '../../common/ssh/transport.js';
import { sshTarget } from '../../common/ssh/target.js';
import type { Inventory } from '../../common/inventory.js';

export async function onNode<T>(inv: Inventory, name: string, fn: (c: SshConnection) => Promise<T>): Promise<T> {
  const node = inv.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`no node ${name} in inventory ${inv.prefix}`);
  return SshConnection.with(sshTarget(inv, node), fn);
}
