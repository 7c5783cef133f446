// followme migrate: one live migration between two edges, phase by phase,
// with the record appended to a JSON-lines file whatever the outcome.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError, FollowmeError } from '../../common/errors.js';
import { readInventory } from '../../common/inventory.js';
import { MAX_PREDUMPS, migrate, MigrationFailedError, type MigrateOptions } from '../../migration/engine/migrate.js';
import type { MigrationEvent } from '../../migration/engine/types.js';
import type { MigrationRecord } from '../../migration/record/schema.js';
import { strategyNames } from '../../migration/strategies/index.js';
import { formatPhase, formatSummary } from '../../migration/record/summary.js';
import { containerName, edgeOf, oneOf, outputPath, wholeNumber } from '../flags.js';
import { log, print } from '../output.js';
import type { MigrateFlags } from '../program.js';

/** Every flag of `migrate` checked, the inventory read and checked (keys too): nothing is opened yet. */
export function checkMigrateFlags(f: MigrateFlags) {
  const inventory = readInventory(f.inventory);
  const strategy = oneOf('strategy', f.strategy, strategyNames());
  const container = containerName('container', f.container);
  const from = edgeOf(inventory, 'from', f.from).name;
  const to = edgeOf(inventory, 'to', f.to).name;
  if (from === to) throw new ConfigError(`--from and --to are both "${from}"; a migration needs two edges`, 'to');
  const predumps = wholeNumber('predumps', f.predumps, 0, MAX_PREDUMPS);
  const out = outputPath('out', f.out);
  return { inventory, strategy, container, from, to, predumps, out };
}

let lastProgress = 0;

/** The progress line of an event, if it has one: each phase as it starts and ends; copy progress every few seconds. */
export function eventLine(e: MigrationEvent): string | undefined {
  switch (e.type) {
    case 'progress': {
      const now = Date.now();
      if (now - lastProgress < 3000) return undefined;
      lastProgress = now;
      return `  ${e.phase}: ${e.percent}% at ${e.rate}`;
    }
    case 'setup-done':
      return `set-up done in ${(e.ms / 1000).toFixed(2)} s`;
    case 'phase-start':
      return `${e.name} …`;
    case 'phase-end':
      return formatPhase(e.phase);
    case 'retry':
      return `  ${e.phase} failed (${e.error.split('\n')[0]}); the container still runs, trying once more`;
    case 'step':
      return `  ${e.step} on ${e.node}`;
    case 'rollback-start':
      return `phase "${e.phase}" failed: ${e.error.split('\n')[0]}; rolling back`;
    case 'state-lost':
      return `phase "${e.phase}" failed: ${e.error.split('\n')[0]}; the container's state is lost (post-copy's lazy window): no copy may run again`;
    case 'rollback-end':
      return `rollback: ${e.outcome}: ${e.detail}`;
    case 'cleanup-done':
      return `source cleaned up in ${(e.ms / 1000).toFixed(2)} s${e.warning ? ` (warning: ${e.warning})` : ''}`;
  }
}

export function logEvent(e: MigrationEvent, say: (line: string) => void = log): void {
  const line = eventLine(e);
  if (line !== undefined) say(line);
}

export function appendRecord(file: string, r: MigrationRecord): void {
  mkdirSync(dirname(resolve(file)), { recursive: true });
  appendFileSync(file, `${JSON.stringify(r)}\n`);
}

export async function migrateCommand(flags: MigrateFlags, via: Pick<MigrateOptions, 'connect' | 'journalDir'> = {}): Promise<void> {
  const o = checkMigrateFlags(flags);
  log(`migrating ${o.container} ${o.from} → ${o.to} by ${o.strategy} (testbed ${o.inventory.prefix})`);
  try {
    const r = await migrate({
      inventory: o.inventory,
      strategy: o.strategy,
      container: o.container,
      from: o.from,
      to: o.to,
      predumps: o.predumps,
      onEvent: (e) => logEvent(e),
      ...via,
    });
    appendRecord(o.out, r);
    print(`${formatSummary(r)}\nrecord appended to ${o.out}\n`);
    // Migrated, but its journal entry stays and the container cannot move again until recover: not a success to a script.
    if (r.cleanupWarning) {
      throw new FollowmeError(
        `migration ${r.id} of ${o.container} is not settled: ${r.cleanupWarning}. Run \`followme recover --inventory FILE --id ${r.id}\`; until then ${o.container} cannot be migrated again`,
      );
    }
  } catch (e) {
    if (e instanceof MigrationFailedError) {
      appendRecord(o.out, e.record);
      print(`${formatSummary(e.record)}\nrecord appended to ${o.out}\n`);
    }
    throw e;
  }
}
