// The fault matrix on a real testbed: one blank container, moved back and
// forth; each case injects one fault into one phase of one strategy (or kills
// the controller there), then checks the promise: the container runs in
// exactly one place with its count going on, nothing of the migration is
// left, the record (or the journal) names the fault, the phase and the
// outcome, and the next migration succeeds. Each case adds a row to the table
// printed at the end (and written to FOLLOWME_FAULT_TABLE, when set).
import { appendFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { readInventory, type Inventory } from '../../common/inventory.js';
import { FAULT_KINDS, faultInjector, faultPhases, type FaultKind } from '../../experiment/faults.js';
import { migrate, MigrationFailedError } from '../../migration/engine/migrate.js';
import { recover } from '../../migration/engine/recover.js';
import { journalDirFor, unfinishedMigrations } from '../../migration/journal.js';
import type { MigrationRecord, StrategyName } from '../../migration/record/schema.js';
import { deployBlankOnEdgeA, leftovers, migrateKilledAt, removeEverywhere, runningOn } from './fault-helpers.js';
import { countAtLeast, expectCountContinues } from './migration-helpers.js';
import { onNode } from './ssh.js';

/** The controller killed (SIGKILL) at the phase's start, then `followme recover`: not an injector, the harness does it. */
export const CONTROLLER_KILLED = 'controller-killed' as const;
export type MatrixFault = FaultKind | typeof CONTROLLER_KILLED;

export interface FaultCase {
  strategy: StrategyName;
  phase: string;
  fault: MatrixFault;
}

export interface MatrixRow extends FaultCase {
  outcome: string;
  runsOn: string;
  recovered: string;
  next: string;
  seconds: number;
}

const PREDUMPS = 1;

/** Every fault that means something for a strategy, in every phase it has. */
export function allCases(strategies: readonly StrategyName[]): FaultCase[] {
  const cases: FaultCase[] = [];
  for (const strategy of strategies) {
    const kinds = [...FAULT_KINDS, CONTROLLER_KILLED as MatrixFault].filter(
      (k) => (k !== 'page-server-killed' || strategy === 'diskless') && (k !== 'nfs-stopped' || strategy === 'shared'),
    );
    for (const phase of faultPhases(strategy, PREDUMPS)) for (const fault of kinds) cases.push({ strategy, phase, fault });
  }
  return cases;
}

/** What a fault may leave on the destination besides the migration itself. */
async function faultLeftovers(inv: Inventory, node: string): Promise<string[]> {
  return onNode(inv, node, async (c) => {
    const r = await c.run([
      'sh',
      '-c',
      'iptables -w -S | grep -e followme-fault; ls -A /tmp/.followme-fault-fill* /var/lib/lxc/.followme-fault-fill* 2>/dev/null; exit 0',
    ]);
    return r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => `${node}: ${l}`);
  });
}

export function faultMatrix(stack: 'twoVmInventory' | 'threeVmNfsInventory', name: string, cases: FaultCase[], rows: MatrixRow[]): void {
  const inventoryPath = () => inject(stack);
  const inv = () => readInventory(inventoryPath());
  let ip = '';
  let count = 0;

  beforeAll(async () => {
    ip = await deployBlankOnEdgeA(inv(), name);
    count = await countAtLeast(ip, 50);
  });

  afterAll(() => removeEverywhere(inv(), name));

  for (const c of cases) {
    it(`${c.strategy} / ${c.phase} / ${c.fault}: runs once with its count, nothing left, the record names it, the next migration succeeds`, async () => {
      const started = Date.now();
      const row: MatrixRow = { ...c, outcome: '?', runsOn: '?', recovered: 'no', next: '?', seconds: 0 };
      try {
        await oneCase(c, row);
      } catch (e) {
        row.next = `TEST FAILED: ${(e as Error).message.split('\n')[0]}`;
        throw e;
      } finally {
        row.seconds = Math.round((Date.now() - started) / 1000);
        rows.push(row);
      }
    });
  }

  async function oneCase(c: FaultCase, row: MatrixRow): Promise<void> {
    const i = inv();
    const [from] = await runningOn(i, name);
    expect(from).toBeDefined();
    const to = from === 'edge-a' ? 'edge-b' : 'edge-a';
    let outcome = '';

    if (c.fault === CONTROLLER_KILLED) {
      // The phase's start as the CLI prints it; source cleanup starts when the restore's line ends.
      const at = c.phase === 'source cleanup' ? /\srestore: / : new RegExp(`\\s${c.phase.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( \\(page server\\))? …`);
      await migrateKilledAt(
        inventoryPath(),
        ['--strategy', c.strategy, '--from', from!, '--to', to, '--container', name, '--predumps', String(PREDUMPS)],
        at,
        0,
      );
      const [entry] = unfinishedMigrations(journalDirFor(i.prefix));
      // The journal names the migration and the step the controller died in.
      expect(entry).toMatchObject({ container: name, strategy: c.strategy });
      outcome = `killed in "${entry!.step}"`;
    } else {
      const fault = faultInjector({ kind: c.fault, phase: c.phase }, i, from!, to);
      let record: MigrationRecord;
      try {
        record = await migrate({ inventory: i, strategy: c.strategy, container: name, from: from!, to, predumps: PREDUMPS, fault });
      } catch (e) {
        if (!(e instanceof MigrationFailedError)) throw e;
        record = e.record;
      }
      // The record names the fault, its phase and the outcome.
      expect(record.fault).toMatchObject({ kind: c.fault, phase: c.phase, injected: true });
      expect(record.fault?.errors, JSON.stringify(record.fault)).toBeUndefined();
      if (record.outcome !== 'migrated') expect(record.error?.phase).toBeDefined();
      outcome = record.outcome === 'migrated' ? 'migrated' : `${record.outcome} (failed in ${record.error!.phase})`;
      // What rollback said, when it could not settle the migration by itself.
      if (record.outcome === 'failed') outcome += `: ${record.error!.rollback.split('\n')[0]!.slice(0, 200)}`;
    }

    // What the fault left for recover (a controller gone, a destination that was down during rollback) is settled now.
    if (unfinishedMigrations(journalDirFor(i.prefix)).length) {
      const reports = await recover({ inventory: i });
      expect(
        reports.every((r) => r.settled),
        JSON.stringify(reports),
      ).toBe(true);
      row.recovered = 'yes';
    }
    row.outcome = outcome;
    const now = await runningOn(i, name);
    expect(now, outcome).toHaveLength(1);
    row.runsOn = now[0] === from ? 'source' : 'destination';
    count = await expectCountContinues(ip, count);
    expect(await leftovers(i, name, now[0]!)).toEqual([]);
    expect(await faultLeftovers(i, to)).toEqual([]);

    // The next migration of the container succeeds.
    const next = now[0] === 'edge-a' ? 'edge-b' : 'edge-a';
    const moved = await migrate({ inventory: i, strategy: c.strategy, container: name, from: now[0]!, to: next, predumps: 0 });
    expect(moved.outcome).toBe('migrated');
    expect(await runningOn(i, name)).toEqual([next]);
    count = await expectCountContinues(ip, count);
    row.next = 'migrated';
  }
}

/** The matrix as a Markdown table, one row per case. */
export function matrixTable(rows: MatrixRow[]): string {
  const lines = [
    '| strategy | phase | fault | outcome | container then on | recover needed | next migration | s |',
    '| --- | --- | --- | --- | --- | --- | --- | ---: |',
    ...rows.map((r) => `| ${r.strategy} | ${r.phase} | ${r.fault} | ${r.outcome} | ${r.runsOn} | ${r.recovered} | ${r.next} | ${r.seconds} |`),
  ];
  return `${lines.join('\n')}\n`;
}

/** Prints the table (and appends it to FOLLOWME_FAULT_TABLE when set). */
export function printMatrix(title: string, rows: MatrixRow[]): void {
  const text = `\n${title}\n\n${matrixTable(rows)}`;
  process.stdout.write(text);
  const file = process.env['FOLLOWME_FAULT_TABLE'];
  if (file) appendFileSync(file, text);
}
