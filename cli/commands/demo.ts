// followme demo: the main job end to end on this machine's libvirt: build
// the image, bring the testbed up, deploy the blank container, migrate it by
// every strategy, print the results table, tear everything down.
import { down, findTestbed, up } from '../../provision/testbed/runner.js';
import { isEmpty } from '../../provision/libvirt/discover.js';
import { ConfigError, FollowmeError } from '../../common/errors.js';
import { deployShowcase, removeShowcase, runMoves, showcaseMoves } from '../../experiment/showcase.js';
import { formatResultsTable } from '../../migration/record/summary.js';
import type { MigrationRecord } from '../../migration/record/schema.js';
import { loadTopology } from './testbed.js';
import { appendRecord, logEvent } from './migrate.js';
import { log, print } from '../output.js';
import { outputPath, wholeNumber } from '../flags.js';
import type { DemoFlags } from '../program.js';
import { MAX_PREDUMPS } from '../../migration/engine/migrate.js';

export async function demo(flags: DemoFlags): Promise<void> {
  // Every flag first: nothing is created until they all pass.
  const { topology, source, stack } = loadTopology(flags);
  const predumps = wholeNumber('predumps', flags.predumps, 0, MAX_PREDUMPS);
  const out = outputPath('out', flags.out);
  if ((await findTestbed(topology)).some((f) => !isEmpty(f))) {
    throw new ConfigError(
      `testbed "${topology.prefix}" already exists in libvirt; \`demo\` only runs on a free prefix (use --prefix, or \`testbed down\` first)`,
      'prefix',
    );
  }
  const records: MigrationRecord[] = [];
  try {
    const r = await up({ topology, source, ...(stack ? { stack } : {}), log });
    log(`testbed ${topology.prefix}: ready in ${(r.timingsMs['total']! / 1000).toFixed(1)} s`);
    if (!r.inventory.nfs) log('this testbed has no NFS server: strategies on shared storage are skipped (use --stack three-vm-nfs)');
    await deployShowcase(r.inventory, log);
    try {
      const done = await runMoves(r.inventory, showcaseMoves(r.inventory), {
        predumps,
        log,
        onEvent: (e) => logEvent(e, (l) => log(`  ${l}`)),
        onRecord: (rec) => {
          records.push(rec);
          appendRecord(out, rec);
        },
      });
      const failed = done.filter((x) => x.outcome !== 'migrated');
      if (failed.length) {
        throw new FollowmeError(
          `${failed.length} of ${done.length} migrations failed and were rolled back: ${failed.map((x) => `${x.strategy} in ${x.error?.phase}`).join(', ')}`,
        );
      }
    } finally {
      if (records.length) print(`\n${formatResultsTable(records)}\n\nrecords appended to ${out}\n`);
      if (!flags.keep) await removeShowcase(r.inventory).catch((e: unknown) => log(`removing the containers: ${(e as Error).message}`));
    }
  } finally {
    if (flags.keep) log(`--keep: testbed ${topology.prefix} left up; \`followme testbed down --stack ${stack ?? '…'}\` removes it`);
    else await down(topology, log);
  }
}
