// The sandboxed half of `npm run bench -- testbed`: up/down of one VM and of
// each stack (image already cached), and this controller process's peak
// memory. Progress on stderr; the rows as one JSON line on stdout.
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

const rows: Record<string, string> = {};
const two = loadStack('two-vm');
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
    (lastSsh + r.timingsMs['prepare']! + r.timingsMs['apply']!) / oneToSsh
  ).toFixed(2)}x one VM's boot; target for two-vm: <= 1.3x)`;
  rows[`${stack}: up, ready (all stages)`] = s(r.timingsMs['total']!);
  rows[`${stack}: down`] = s(await timeDown(t));
}
rows['controller peak memory during up/down (RSS)'] = `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB (target < 300 MB)`;
process.stdout.write(`${JSON.stringify(rows)}\n`);
