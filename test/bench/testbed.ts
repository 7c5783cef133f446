// npm run bench -- testbed: image build (cold, then warm) here, where
// Debian's archive is reachable; then, in the sandbox, `up` of each stack next
// to one VM booting to SSH alone, `down`, and the controller's peak memory
// (testbed-vms.ts). Figures, not assertions.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureImage, recipeFor } from '../../provision/image/build.js';
import { runSandboxed } from './sandboxed.js';
import { loadStack } from '../../provision/topology/stack-config.js';

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function log(line: string): void {
  process.stderr.write(`  · ${line}\n`);
}

export async function benchTestbed(): Promise<Record<string, string>> {
  const rows: Record<string, string> = {};
  const two = loadStack('two-vm');
  const recipe = recipeFor(two);

  // Cold: the same recipe into an empty cache dir, so the real cache stays warm.
  const realCache = process.env['FOLLOWME_CACHE_DIR'];
  const coldDir = mkdtempSync(join(tmpdir(), 'followme-bench-cache-'));
  process.env['FOLLOWME_CACHE_DIR'] = coldDir;
  try {
    const cold = await ensureImage(recipe, log);
    rows['image build, cold'] = s(cold.durationMs);
  } finally {
    if (realCache === undefined) delete process.env['FOLLOWME_CACHE_DIR'];
    else process.env['FOLLOWME_CACHE_DIR'] = realCache;
    rmSync(coldDir, { recursive: true, force: true });
  }
  await ensureImage(recipe, log); // make sure the real cache holds it
  const warm = await ensureImage(recipe, log);
  rows['image build, warm (cache hit)'] = `${warm.durationMs} ms`;

  // The VMs run in the hermetic sandbox (its own libvirtd, no route out).
  Object.assign(rows, await runSandboxed('dist/test/bench/testbed-vms.js', 'testbed'));
  rows['image build: peak memory (RSS)'] = `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`;
  return rows;
}
