// followme demo: the main job end to end on this machine's libvirt: build
// the image, bring the testbed up, deploy the blank container, migrate it by
// every strategy, print the results table, tear everything down.
import { down, findTestbed, up } from '../../provision/testbed/runner.js';
import { isEmpty } from '../../provision/libvirt/discover.js';
import { ConfigError, FollowmeError } from '../../common/errors.js';
import { deployShowcase, removeShowcase, runMoves, showcaseMoves } from '../../migration/showcase.js';
import { formatResultsTable } from '../../migration/record/summary.js';
import type { MigrationRecord } from '../../migration/record/schema.js';
import { loadTopology, type TestbedOptions } from './testbed.js';
import { appendRecord, logEvent, parsePredumps } from './migrate.js';
import { log } from '../output.js';

export interface DemoOptions extends TestbedOptions {
  predumps?: string;
  out: string;
  keep?: boolean;
}

export async function demo(o: DemoOptions): Promise<void> {
  const { topology, source, stack } = loadTopology(o);
  const predumps = parsePredumps(o.predumps);
  if ((await findTestbed(topology)).some((f) => !isEmpty(f))) {
    throw new ConfigError(`testbed "${topology.prefix}" already exists in libvirt; \`demo\` only runs on a free prefix (use --prefix, or \`testbed down\` first)`, 'prefix');
  }
  const records: MigrationRecord[] = [];
  try {
    const r = await up({ topology, source, ...(stack ? { stack } : {}), log });
    log(`testbed ${topology.prefix}: ready in ${(r.timingsMs['total']! / 1000).toFixed(1)} s`);
    if (!r.inventory.nfs) log('this testbed has no NFS server: the shared strategy is skipped (use --stack three-vm-nfs)');
    await deployShowcase(r.inventory, log);
    try {
      const done = await runMoves(r.inventory, showcaseMoves(r.inventory), {
        ...(predumps !== undefined ? { predumps } : {}),
        log,
        onEvent: (e) => logEvent(e, (l) => log(`  ${l}`)),
        onRecord: (rec) => {
          records.push(rec);
          appendRecord(o.out, rec);
        },
      });
      const failed = done.filter((x) => x.outcome !== 'migrated');
      if (failed.length) {
        throw new FollowmeError(`${failed.length} of ${done.length} migrations failed and were rolled back: ${failed.map((x) => `${x.strategy} in ${x.error?.phase}`).join(', ')}`);
      }
    } finally {
      if (records.length) process.stdout.write(`\n${formatResultsTable(records)}\n\nrecords appended to ${o.out}\n`);
      if (!o.keep) await removeShowcase(r.inventory).catch((e: unknown) => log(`removing the containers: ${(e as Error).message}`));
    }
  } finally {
    if (o.keep) log(`--keep: testbed ${topology.prefix} left up; \`followme testbed down --stack ${stack ?? '…'}\` removes it`);
    else await down(topology, log);
  }
}
