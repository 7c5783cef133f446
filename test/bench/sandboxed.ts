// Runs one bench script from dist/ inside the hermetic sandbox (its own
// libvirtd, no route out) and returns the rows it prints as its last line.
import { execa } from 'execa';
import { projectRoot } from '../../common/paths.js';

export async function runSandboxed(script: string, what: string, nodeFlags: string[] = []): Promise<Record<string, string>> {
  const inner = await execa('bash', ['test/harness/sandbox.sh', 'node', ...nodeFlags, script], {
    cwd: projectRoot(),
    stderr: 'inherit',
    reject: false,
  });
  const last = String(inner.stdout).trim().split('\n').pop() ?? '';
  if (inner.exitCode !== 0 || !last.startsWith('{')) throw new Error(`${what} bench in the sandbox failed (exit ${inner.exitCode})`);
  return JSON.parse(last) as Record<string, string>;
}
