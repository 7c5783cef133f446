// npm run bench -- engine: the migration engine's own cost. In the sandbox,
// on a three-vm-nfs testbed, the blank container is moved R times by each
// strategy (engine-vms.ts); per strategy this prints the engine's overhead
// (Ψ minus the time the remote commands themselves took) as a share of Ψ and
// in ms, next to the downtime and the raw CRIU/rsync command time of the
// same runs. Figures, not assertions.
import { execa } from 'execa';
import { projectRoot } from '../../provision/paths.js';

export async function benchEngine(): Promise<Record<string, string>> {
  const inner = await execa('bash', ['test/harness/sandbox.sh', 'node', 'dist/test/bench/engine-vms.js'], {
    cwd: projectRoot(),
    stderr: 'inherit',
    reject: false,
  });
  const last = String(inner.stdout).trim().split('\n').pop() ?? '';
  if (inner.exitCode !== 0 || !last.startsWith('{')) throw new Error(`engine bench in the sandbox failed (exit ${inner.exitCode})`);
  return JSON.parse(last) as Record<string, string>;
}
