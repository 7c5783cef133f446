// How to reach an inventory node over SSH.
import type { Inventory, InventoryNode } from '../inventory.js';
import type { SshTarget } from './transport.js';

export function sshTarget(_inv: Inventory | undefined, n: InventoryNode): SshTarget {
  return {
    node: n.name,
    host: n.ip,
    ...(n.sshPort ? { port: n.sshPort } : {}),
    user: n.sshUser,
    privateKeyPath: n.privateKeyPath,
    hostPublicKey: n.hostPublicKey,
    consoleLog: n.consoleLog,
  };
}
