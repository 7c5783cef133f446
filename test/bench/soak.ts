// npm run bench -- soak: 100 migrations back and forth (FOLLOWME_SOAK_MIGRATIONS),
// mixing tmpfs, diskless and shared, on a three-vm-nfs testbed in the sandbox;
// before and after, everything that could leak is counted on every node and
// on the controller (soak-vms.ts). Figures, not assertions: the table says
// which counts changed.
import { runSandboxed } from './sandboxed.js';

export function benchSoak(): Promise<Record<string, string>> {
  return runSandboxed('dist/test/bench/soak-vms.js', 'soak', ['--expose-gc']);
}
