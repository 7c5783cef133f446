// One testbed per stack for the whole integration run (a TCG VM takes over a
// minute to boot). Both come up in parallel; teardown brings them down and
// fails the run if libvirt still holds any object with their prefix.
import type { TestProject } from 'vitest/node';
import { loadStack } from '../../provision/topology/stack-config.js';
import { stackConfigPath } from '../../provision/topology/stack-config.js';
import { down, up } from '../../provision/testbed/runner.js';
import { ensureImage, recipeFor } from '../../provision/image/build.js';
import { insideSandbox, objectsWithPrefix } from './libvirt-objects.js';
import { vmHealthReport } from './vm-health.js';

declare module 'vitest' {
  export interface ProvidedContext {
    twoVmInventory: string;
    corridorInventory: string;
  }
}

const STACKS = { twoVmInventory: 'two-vm', corridorInventory: 'corridor' } as const;

function log(line: string): void {
  process.stderr.write(`[global-setup ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (!insideSandbox()) {
    throw new Error('integration tests run inside the hermetic sandbox: use `npm test` (test/harness/sandbox.sh), not vitest directly');
  }
  const topologies = Object.fromEntries(Object.entries(STACKS).map(([k, s]) => [k, loadStack(s)]));
  // One image serves both stacks; build it once before the parallel ups.
  await ensureImage(recipeFor(topologies['twoVmInventory']!), log);
  const started = Date.now();
  const results = await Promise.allSettled(
    Object.entries(STACKS).map(async ([key, stack]) => {
      const r = await up({ topology: topologies[key]!, source: stackConfigPath(stack), stack, log: (l) => log(`${stack}: ${l}`) });
      project.provide(key as keyof typeof STACKS, r.inventoryPath);
      return r;
    }),
  );
  log(`testbeds up in ${((Date.now() - started) / 1000).toFixed(0)} s`);

  // Silent on success, so the run still ends with vitest's summary.
  const teardown = async () => {
    const leftovers: string[] = [];
    for (const t of Object.values(topologies)) {
      for (const paragraph of await vmHealthReport(t).catch((e: Error) => [`health report: ${e.message}`])) {
        log(`a VM was not healthy at teardown:\n${paragraph}`);
      }
      await down(t);
      leftovers.push(...(await objectsWithPrefix(t.prefix)));
    }
    if (leftovers.length) {
      throw new Error(`teardown: virsh list/net-list/pool-list/vol-list still show: ${leftovers.join(', ')}`);
    }
  };
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await teardown().catch((e) => log(`teardown after failed setup: ${(e as Error).message}`));
    throw failed.reason;
  }
  return teardown;
}
