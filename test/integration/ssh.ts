// Test helper: run argv on an inventory node over the real SSH transport.
import { SshConnection } from '../../common/ssh/transport.js';
import { sshTarget } from '../../common/ssh/target.js';
import type { Inventory, InventoryNode } from '../../common/inventory.js';

function nodeNamed(inv: Inventory, name: string): InventoryNode {
  const node = inv.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`no node ${name} in inventory ${inv.prefix}`);
  return node;
}

export async function onNode<T>(inv: Inventory, name: string, fn: (c: SshConnection) => Promise<T>): Promise<T> {
  return SshConnection.with(sshTarget(inv, nodeNamed(inv, name)), fn);
}

export type NodeRunner = <T>(name: string, fn: (c: SshConnection) => Promise<T>) => Promise<T>;

/**
 * One connection per node, kept open between calls and opened again once lost: a suite that checks the edges
 * dozens of times saves a TCG guest's SSH handshake (seconds under load) on each. Close with closeAll().
 */
export function keptConnections(inv: () => Inventory): { onNode: NodeRunner; closeAll(): void } {
  const open = new Map<string, SshConnection>();
  const connection = async (name: string): Promise<SshConnection> => {
    const kept = open.get(name);
    if (kept && kept.lostReason === undefined) return kept;
    kept?.close();
    const i = inv();
    const fresh = await SshConnection.connect(sshTarget(i, nodeNamed(i, name)));
    open.set(name, fresh);
    return fresh;
  };
  return {
    // A connection found dead only by using it (its VM restarted under it): once more on a fresh one; these are checks.
    onNode: async (name, fn) => {
      const c = await connection(name);
      try {
        return await fn(c);
      } catch (e) {
        if (c.lostReason === undefined) throw e;
        return fn(await connection(name));
      }
    },
    closeAll: () => {
      for (const c of open.values()) c.close();
      open.clear();
    },
  };
}
