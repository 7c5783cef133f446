// followme recover: settles the journal's unfinished migrations (and what
// migrations left on the edges without one), printing per migration what it
// found and what it did. Exit 0 when every container runs in exactly one
// place and nothing of a migration is left; 1 otherwise, naming why (a
// container whose in-memory state is lost for good included).
import { ConfigError, FollowmeError } from '../../common/errors.js';
import { readInventory } from '../../common/inventory.js';
import { shown } from '../../common/input/clip.js';
import { MIGRATION_ID_PATTERN } from '../../common/input/patterns.js';
import { journalDirFor } from '../../migration/journal.js';
import { recover, type RecoveryReport } from '../../migration/engine/recover.js';
import { log, print } from '../output.js';
import type { RecoverFlags } from '../program.js';

const ID = new RegExp(MIGRATION_ID_PATTERN);

export function checkRecoverFlags(f: RecoverFlags) {
  const inventory = readInventory(f.inventory);
  if (f.id !== undefined && !ID.test(f.id)) throw new ConfigError(`--id: ${shown(f.id)} is not a migration id (letters, digits, _ . -)`, 'id');
  return { inventory, id: f.id };
}

export function reportLines(r: RecoveryReport): string[] {
  const state = !r.settled
    ? `NOT settled: ${r.problem ?? 'unknown'}`
    : r.stateLost
      ? `settled, state lost: ${r.stateLost}; ${r.container} is stopped on ${r.stoppedOn}, to be started anew`
      : `settled: ${r.container} runs on ${r.runningOn}`;
  return [`${r.id}: ${state}`, ...r.found.map((l) => `  found: ${l}`), ...r.did.map((l) => `  did: ${l}`)];
}

export async function recoverCommand(flags: RecoverFlags): Promise<void> {
  const o = checkRecoverFlags(flags);
  const journal = journalDirFor(o.inventory.prefix);
  log(`recovering ${o.id ? `migration ${o.id}` : 'every unfinished migration'} of testbed ${o.inventory.prefix} (journal ${journal})`);
  const reports = await recover({ inventory: o.inventory, ...(o.id ? { id: o.id } : {}), journalDir: journal, log });
  if (reports.length === 0) {
    print(
      o.id
        ? `no unfinished migration ${o.id} in ${journal}: nothing to recover\n`
        : 'no unfinished migration and nothing left on the edges: nothing to recover\n',
    );
    return;
  }
  print(`${reports.flatMap(reportLines).join('\n')}\n`);
  const unsettled = reports.filter((r) => !r.settled);
  if (unsettled.length) {
    throw new FollowmeError(`${unsettled.length} of ${reports.length} migration(s) not settled: ${unsettled.map((r) => `${r.id}: ${r.problem}`).join('; ')}`);
  }
  // Settled, yet the container runs nowhere: a script must not go on as if it did.
  const lost = reports.filter((r) => r.stateLost);
  if (lost.length) throw new FollowmeError(`${lost.map((r) => `${r.container} (${r.id})`).join(', ')}: in-memory state lost; nothing of the migration is left`);
}
