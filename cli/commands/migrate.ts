// followme migrate: one live migration between two edges, phase by phase,
// with the record appended to a JSON-lines file whatever the outcome.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { readInventory } from '../../common/inventory.js';
import { ConfigError } from '../../common/errors.js';
import { migrate, MigrationFailedError } from '../../migration/engine/migrate.js';
import type { MigrationEvent } from '../../migration/engine/types.js';
import type { MigrationRecord } from '../../migration/record/schema.js';
import { formatPhase, formatSummary } from '../../migration/record/summary.js';
import { log } from '../output.js';

export interface MigrateCliOptions {
  inventory: string;
  strategy: string;
  from: string;
  to: string;
  container: string;
  predumps?: string;
  out: string;
}

export function parsePredumps(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new ConfigError(`--predumps: must be a whole number, got "${v}"`, 'predumps');
  return Number(v);
}

let lastProgress = 0;

/** Progress lines for the CLI: each phase as it starts and ends; copy progress every few seconds. */
export function logEvent(e: MigrationEvent, say: (line: string) => void = log): void {
  switch (e.type) {
    case 'progress': {
      const now = Date.now();
      if (now - lastProgress < 3000) return;
      lastProgress = now;
      return say(`  ${e.phase}: ${e.percent}% at ${e.rate}`);
    }
    case 'setup-done':
      return say(`set-up done in ${(e.ms / 1000).toFixed(2)} s`);
    case 'phase-start':
      return say(`${e.name} …`);
    case 'phase-end':
      return say(formatPhase(e.phase));
    case 'retry':
      return say(`  ${e.phase} failed (${e.error.split('\n')[0]}); the container still runs, trying once more`);
    case 'step':
      return say(`  ${e.step} on ${e.node}`);
    case 'rollback-start':
      return say(`phase "${e.phase}" failed: ${e.error.split('\n')[0]}; rolling back`);
    case 'rollback-end':
      return say(`rollback: ${e.outcome}: ${e.detail}`);
    case 'cleanup-done':
      return say(`source cleaned up in ${(e.ms / 1000).toFixed(2)} s${e.warning ? ` (warning: ${e.warning})` : ''}`);
  }
}

export function appendRecord(file: string, r: MigrationRecord): void {
  mkdirSync(dirname(resolve(file)), { recursive: true });
  appendFileSync(file, `${JSON.stringify(r)}\n`);
}

export async function migrateCommand(o: MigrateCliOptions): Promise<void> {
  const inventory = readInventory(o.inventory);
  const predumps = parsePredumps(o.predumps);
  log(`migrating ${o.container} ${o.from} → ${o.to} by ${o.strategy} (testbed ${inventory.prefix})`);
  try {
    const r = await migrate({ inventory, strategy: o.strategy, container: o.container, from: o.from, to: o.to, ...(predumps !== undefined ? { predumps } : {}), onEvent: (e) => logEvent(e) });
    appendRecord(o.out, r);
    process.stdout.write(`${formatSummary(r)}\nrecord appended to ${o.out}\n`);
  } catch (e) {
    if (e instanceof MigrationFailedError) {
      appendRecord(o.out, e.record);
      process.stdout.write(`${formatSummary(e.record)}\nrecord appended to ${o.out}\n`);
    }
    throw e;
  }
}
