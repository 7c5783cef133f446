// npm run bench -- engine: the migration engine's own cost. In the sandbox,
// on a three-vm-nfs testbed, the blank container is moved R times by each
// strategy (engine-vms.ts); per strategy this prints the engine's overhead
// (Ψ minus the time the remote commands themselves took) as a share of Ψ and
// in ms, next to the downtime and the raw CRIU/rsync command time of the
// same runs. Figures, not assertions.
import { runSandboxed } from './sandboxed.js';

export function benchEngine(): Promise<Record<string, string>> {
  return runSandboxed('dist/test/bench/engine-vms.js', 'engine');
}
