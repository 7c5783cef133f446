// Test helper: run the followme CLI (built into dist/ by `npm test`) as a user would.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { projectRoot } from '../../common/paths.js';
import { scratchDir } from '../scratch.js';

export async function followme(args: string[], opts: { timeoutMs?: number } = {}): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const r = await execa('node', [join(projectRoot(), 'dist/cli/main.js'), ...args], { reject: false, timeout: opts.timeoutMs ?? 15 * 60_000 });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Writes a Pulumi-style stack config file holding `topology` (removed after the test); returns its path. */
export function writeStackConfig(topology: unknown): string {
  const dir = scratchDir('followme-cfg-');
  const path = join(dir, 'Pulumi.test.yaml');
  writeFileSync(path, stringify({ config: { 'followme:topology': topology } }));
  return path;
}
