// npm run bench -- testbed: image build (cold, then warm), `up` of each
// stack with a warm cache next to one VM booting to SSH alone, `down`, and
// the controller's peak memory. Figures, not assertions.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureImage, recipeFor } from '../../provision/image/build.js';
import { down, up } from '../../provision/testbed/runner.js';
import { loadStack, stackConfigPath } from '../../provision/topology/stack-config.js';
import type { Topology } from '../../provision/topology/schema.js';

const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function log(line: string): void {
  process.stderr.write(`  · ${line}\n`);
}

async function timeDown(t: Topology): Promise<number> {
  const started = Date.now();
  await down(t, log);
  return Date.now() - started;
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

  // One VM alone: the yardstick for parallel boots.
  const single: Topology = { ...two, prefix: 'fmbench1', subnet: '10.77.60.0/24', nodes: [{ name: 'solo', role: 'edge' }] };
  const one = await up({ topology: single, source: 'bench single VM', log });
  const oneToSsh = (one.readiness!['solo']!['address'] ?? 0) + (one.readiness!['solo']!['ssh'] ?? 0);
  rows['one VM: boot to SSH'] = s(oneToSsh);
  rows['one VM: up, ready (incl. criu/lxc checks)'] = s(one.timingsMs['total']!);
  rows['one VM: down'] = s(await timeDown(single));

  for (const stack of ['two-vm', 'three-vm-nfs']) {
    const t = loadStack(stack);
    const r = await up({ topology: t, source: stackConfigPath(stack), stack, log });
    const lastSsh = Math.max(...Object.values(r.readiness!).map((x) => (x['address'] ?? 0) + (x['ssh'] ?? 0)));
    rows[`${stack}: up, all nodes at SSH`] = `${s(lastSsh + r.timingsMs['prepare']! + r.timingsMs['apply']!)} (${(
      (lastSsh + r.timingsMs['prepare']! + r.timingsMs['apply']!) /
      oneToSsh
    ).toFixed(2)}x one VM's boot; target for two-vm: <= 1.3x)`;
    rows[`${stack}: up, ready (all stages)`] = s(r.timingsMs['total']!);
    rows[`${stack}: down`] = s(await timeDown(t));
  }
  rows['controller peak memory (RSS)'] = `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB (target < 300 MB)`;
  return rows;
}
