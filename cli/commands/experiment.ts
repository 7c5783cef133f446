// followme experiment: a plan's runs on a testbed (given by its inventory,
// or brought up and down here with --stack), each run's record appended to
// DIR/runs.jsonl as it ends; the same command again resumes.
import { strategyNamed } from '../../migration/strategies/index.js';
import { join, resolve } from 'node:path';
import { ConfigError } from '../../common/errors.js';
import { readInventory } from '../../common/inventory.js';
import { readPlan } from '../../experiment/plan.js';
import { checkPlanFitsTestbed, runExperiment } from '../../experiment/runner.js';
import { down, up } from '../../provision/testbed/runner.js';
import { outputDir } from '../flags.js';
import { log, print } from '../output.js';
import { progressReporter } from '../progress.js';
import type { ExperimentFlags } from '../program.js';
import { logEvent } from './migrate.js';
import { loadTopology } from './testbed.js';

export async function experimentCommand(flags: ExperimentFlags): Promise<void> {
  // Every input first: nothing is created and no connection opened until all pass.
  const plan = readPlan(flags.plan);
  if (flags.inventory !== undefined && flags.stack !== undefined)
    throw new ConfigError('--inventory and --stack: give one (a running testbed, or one to bring up)', 'stack');
  if (flags.inventory === undefined && flags.stack === undefined) throw new ConfigError('--inventory or --stack: one is needed', 'inventory');
  for (const [flag, given] of [
    ['config', flags.config],
    ['prefix', flags.prefix],
    ['keep', flags.keep],
  ] as const) {
    if (flags.inventory !== undefined && given !== undefined)
      throw new ConfigError(`--${flag}: goes with --stack (a testbed brought up here); with --inventory the testbed is the inventory's`, flag);
  }
  const out = outputDir('out', flags.out ?? join('followme-results', plan.name));
  const inventory = flags.inventory !== undefined ? readInventory(flags.inventory) : undefined;
  const testbed =
    flags.stack !== undefined
      ? loadTopology({ stack: flags.stack, ...(flags.config ? { config: flags.config } : {}), ...(flags.prefix ? { prefix: flags.prefix } : {}) })
      : undefined;
  if (inventory) checkPlanFitsTestbed(plan, inventory);
  const onShare = plan.strategies.filter((s) => strategyNamed(s).storage.needsShare);
  if (testbed && onShare.length && !testbed.topology.nodes.some((n) => n.role === 'nfs')) {
    throw new ConfigError(
      `plan.strategies: ${onShare.join(', ')} ${onShare.length === 1 ? 'needs' : 'need'} a testbed with an NFS server; stack ${flags.stack} has none (use --stack three-vm-nfs)`,
      'strategies',
    );
  }

  const bar = progressReporter();
  const run = async (inv: NonNullable<typeof inventory>) => {
    const r = await runExperiment({
      plan,
      planFile: resolve(flags.plan),
      inventory: inv,
      out,
      ...(testbed?.stack ? { stack: testbed.stack } : {}),
      log,
      onProgress: (p) => bar.update(p),
      onEvent: (e) => logEvent(e, (l) => log(`  ${l}`)),
    });
    bar.stop();
    const failed = r.runs.filter((x) => x.outcome !== 'migrated' || x.state.problem);
    print(
      `${r.runs.length} runs in ${out}/runs.jsonl (${r.ranNow} now), ${r.runs.length - failed.length} migrated with their state intact` +
        `${failed.length ? `; not: ${failed.map((x) => x.key).join(', ')}` : ''}\n` +
        `report: followme report ${out}\n`,
    );
  };
  if (inventory) return run(inventory);
  const t = testbed!;
  try {
    const r = await up({ topology: t.topology, source: t.source, ...(t.stack ? { stack: t.stack } : {}), log });
    log(`testbed ${t.topology.prefix}: ready in ${(r.timingsMs['total']! / 1000).toFixed(1)} s`);
    await run(r.inventory);
  } finally {
    bar.stop();
    if (flags.keep) log(`--keep: testbed ${t.topology.prefix} left up; \`followme testbed down --stack ${t.stack ?? '…'}\` removes it`);
    else await down(t.topology, log);
  }
}
