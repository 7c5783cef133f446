// The fault matrix on a real testbed: one blank container, moved back and
// forth; each case injects one fault into one phase of one strategy (or kills
// the controller there), then checks the promise: the container runs in
// exactly one place with its count going on, nothing of the migration is
// left, the record (or the journal) names the fault, the phase and the
// outcome, and the next migration succeeds. Each case adds a row to the table
// printed at the end (and written to FOLLOWME_FAULT_TABLE, when set).
import { appendFileSync, existsSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { readInventory } from '../../common/inventory.js';
import { CONTROLLER_KILLED, type FaultCase, faultCases, faultInjector, faultPhases, type PlanFaultKind } from '../../experiment/faults.js';
import { migrate, MigrationFailedError } from '../../migration/engine/migrate.js';
import { recover } from '../../migration/engine/recover.js';
import { faultPhaseMatches } from '../../migration/engine/types.js';
import { journalDirFor, unfinishedMigrations } from '../../migration/journal.js';
import { registeredStrategies, strategyNamed } from '../../migration/strategies/index.js';
import { hasLazyWindow, LAZY_PAGES_PHASE } from '../../migration/strategies/lazy-steps.js';
import type { MigrationRecord, StrategyName } from '../../migration/record/schema.js';
import { deployBlankOnEdgeA, leftovers, migrateKilledAt, removeEverywhere, runningOn } from './fault-helpers.js';
import { countAtLeast, expectCountContinues } from './migration-helpers.js';
import { followme } from './cli.js';
import { keptConnections, type NodeRunner } from './ssh.js';

/** controller-killed is not an injector here: the harness kills `followme migrate` as the phase's progress line appears, then runs `followme recover`. */
export type MatrixFault = PlanFaultKind;

export interface MatrixRow extends FaultCase {
  outcome: string;
  runsOn: string;
  recovered: string;
  next: string;
  seconds: number;
}

const PREDUMPS = 1;

export type { FaultCase };

/** The registered strategies a stack's matrix runs: those on shared storage on the corridor, the others on two-vm. */
export function strategiesOn(stack: 'twoVmInventory' | 'corridorInventory'): StrategyName[] {
  return registeredStrategies()
    .filter((s) => s.storage.needsShare === (stack === 'corridorInventory'))
    .map((s) => s.name);
}

/** Every fault that means something for a strategy, in every phase it has. */
export function allCases(strategies: readonly StrategyName[]): FaultCase[] {
  return faultCases(strategies, PREDUMPS);
}

/**
 * The cases `npm test` runs: for every strategy, the controller killed in one phase and one fault from the freeze on
 * (where a rollback must bring the container back from its final dump), and one fault in a source cleanup. Quick
 * faults only (a dropped SSH connection, a killed page server or controller). The whole matrix, every kind in every
 * phase of every strategy, is `npm run test:faults`: a matrix does not fit the CI budget beside the trip test.
 */
export const FAULTS_IN_NPM_TEST: readonly FaultCase[] = [
  { strategy: 'tmpfs', phase: 'final copy', fault: CONTROLLER_KILLED },
  { strategy: 'tmpfs', phase: 'restore', fault: 'ssh-dropped-dest' },
  { strategy: 'tmpfs', phase: 'source cleanup', fault: 'ssh-dropped-source' },
  { strategy: 'diskless', phase: 'pre-dump 1', fault: CONTROLLER_KILLED },
  { strategy: 'diskless', phase: 'final dump', fault: 'page-server-killed' },
  { strategy: 'shared', phase: 'final dump', fault: 'ssh-dropped-dest' },
  { strategy: 'shared', phase: 'restore', fault: CONTROLLER_KILLED },
  { strategy: 'adaptive', phase: 'final dump', fault: CONTROLLER_KILLED },
  { strategy: 'adaptive', phase: 'restore', fault: 'ssh-dropped-dest' },
  { strategy: 'lean', phase: 'final dump', fault: 'page-server-killed' },
  { strategy: 'lean', phase: 'final copy', fault: CONTROLLER_KILLED },
  { strategy: 'sharedlean', phase: 'final copy', fault: CONTROLLER_KILLED },
  { strategy: 'sharedlean', phase: 'restore', fault: 'ssh-dropped-dest' },
  // Before the restore the source still holds every page: a lazy dump ended on purpose resumes it.
  { strategy: 'postcopy', phase: 'final copy', fault: CONTROLLER_KILLED },
  // The source's connection lost after the lazy dump, before the restore: rolled back over a new one, nothing lost.
  { strategy: 'postcopy', phase: 'final copy', fault: 'ssh-dropped-source' },
  // A restore that fails before anything runs rolls back, nothing lost.
  { strategy: 'hybrid', phase: 'restore', fault: 'ssh-dropped-dest' },
  // The controller gone in the lazy window: the pages still arrive, and recover finishes the move.
  { strategy: 'hybrid', phase: 'lazy pages', fault: CONTROLLER_KILLED },
];

/** The phases of `strategy` that no case in `cases` aims at. */
export function phasesWithoutFault(cases: readonly FaultCase[], strategy: StrategyName): string[] {
  return faultPhases(strategy, PREDUMPS).filter((p) => !cases.some((c) => c.strategy === strategy && c.phase === p));
}

/** What a fault may leave on the destination besides the migration itself. */
async function faultLeftovers(on: NodeRunner, node: string): Promise<string[]> {
  return on(node, async (c) => {
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

/**
 * When the next migration is made: after every case (the whole matrix), or, to fit `npm test`'s budget, after the last
 * case of each strategy only; the case after another then starts from wherever the one before left the container, and
 * its own migration must get through every phase before its fault.
 */
/** When a case is followed by a plain migration that must succeed: after each, or after the last (each case's own move is the one before it). */
export type NextMigration = 'after each case' | 'after the last case';

export function faultMatrix(
  stack: 'twoVmInventory' | 'corridorInventory',
  name: string,
  cases: readonly FaultCase[],
  rows: MatrixRow[],
  nextMigration: NextMigration = 'after each case',
): void {
  const inventoryPath = () => inject(stack);
  const inv = () => readInventory(inventoryPath());
  const kept = keptConnections(inv);
  let ip = '';
  let count = 0;

  beforeAll(async () => {
    ip = await deployBlankOnEdgeA(inv(), name);
    count = await countAtLeast(ip, 50);
  });

  afterAll(async () => {
    kept.closeAll();
    await removeEverywhere(inv(), name);
  });

  cases.forEach((c, n) => {
    const moveAfter = nextMigration === 'after each case' || n === cases.length - 1;
    const then = moveAfter ? 'the next migration succeeds' : 'the next case goes on from there';
    it(`${c.strategy} / ${c.phase} / ${c.fault}: runs once with its count, nothing left, the record names it, ${then}`, async () => {
      const started = Date.now();
      const row: MatrixRow = { ...c, outcome: '?', runsOn: '?', recovered: 'no', next: moveAfter ? '?' : 'the next case', seconds: 0 };
      try {
        await oneCase(c, row, moveAfter);
      } catch (e) {
        row.next = `TEST FAILED: ${(e as Error).message.split('\n')[0]}`;
        throw e;
      } finally {
        row.seconds = Math.round((Date.now() - started) / 1000);
        rows.push(row);
        appendProgress(row);
      }
    });
  });

  async function oneCase(c: FaultCase, row: MatrixRow, moveAfter: boolean): Promise<void> {
    const i = inv();
    const journalDir = journalDirFor(i.prefix);
    const [from] = await runningOn(i, name, kept.onNode);
    expect(from).toBeDefined();
    const to = from === 'edge-a' ? 'edge-b' : 'edge-a';
    let outcome = '';
    let stateLost: string | undefined;
    let migrated = false;

    if (c.fault === CONTROLLER_KILLED) {
      // The phase's start as the CLI prints it (source cleanup starts when the restore's line ends), then its step in the journal.
      const inPhase = (step: string) => faultPhaseMatches(c.phase, step);
      const at = c.phase === 'source cleanup' ? /\srestore: / : new RegExp(`\\s${c.phase.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( \\([a-z ]+\\))? …`);
      const printed = await migrateKilledAt(
        inventoryPath(),
        ['--strategy', c.strategy, '--from', from!, '--to', to, '--container', name, '--predumps', String(PREDUMPS)],
        at,
        0,
        { dir: journalDir, step: inPhase },
      );
      const [entry] = unfinishedMigrations(journalDir);
      // The journal names the migration and the step the controller died in: the case's phase.
      expect(entry, printed).toMatchObject({ container: name, strategy: c.strategy, from, to });
      expect(inPhase(entry!.step), `killed in "${entry!.step}", not in "${c.phase}":\n${printed}`).toBe(true);
      outcome = `killed in "${entry!.step}"`;
      await recoverByCli(entry!.id, c.strategy, from!, to);
      row.recovered = 'yes';
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
      // A dump the fault failed once may succeed on its one retry.
      if (record.retries?.length) outcome += `, after retrying ${record.retries.map((r) => r.phase).join(', ')}`;
      // What rollback said, when it could not settle the migration by itself.
      if (record.outcome === 'failed' && !record.error!.stateLost) outcome += `: ${record.error!.rollback.split('\n')[0]!.slice(0, 200)}`;
      stateLost = record.error?.stateLost;
      migrated = record.outcome === 'migrated';
    }

    // What the fault left for recover (a controller gone, a destination that was down during rollback) is settled now.
    if (unfinishedMigrations(journalDir).length) {
      const reports = await recover({ inventory: i });
      expect(
        reports.every((r) => r.settled),
        JSON.stringify(reports),
      ).toBe(true);
      row.recovered = 'yes';
      stateLost ??= reports.find((r) => r.stateLost)?.stateLost;
    }
    row.outcome = outcome;
    // The one loss by design: said plainly, where expected only, with nothing left; the container is started anew.
    const loses = losesState(c);
    if (loses !== 'may') expect(stateLost !== undefined, stateLost ?? outcome).toBe(loses === 'always');
    // A move that says it migrated had every page arrive: whatever recover then finds (a cleanup cut short), nothing is lost.
    else if (migrated) expect(stateLost, `${outcome}, then recover said the state was lost`).toBeUndefined();
    if (stateLost) {
      row.outcome = `${outcome}; state lost: ${stateLost.split(':')[0]}`;
      expect(await runningOn(i, name, kept.onNode)).toEqual([]);
      const stopped = stoppedOn(c, from!, to);
      expect(await leftovers(i, name, stopped, kept.onNode)).toEqual([]);
      // lxc-start -d says little on failure: its log says why.
      const started = await kept.onNode(stopped, (conn) =>
        // To a file: the daemonized monitor would hold a stderr it logs to, and the SSH channel with it.
        conn.run(['sh', '-c', 'lxc-start -n "$0" -d -l INFO -o "/tmp/lxc-start-$0.log" || { rc=$?; cat "/tmp/lxc-start-$0.log" >&2; exit "$rc"; }', name]),
      );
      expect(started.exitCode, `lxc-start on ${stopped}: ${started.stderr.slice(-3000)}`).toBe(0);
      count = await countAtLeast(ip, 1);
    }
    const now = await runningOn(i, name, kept.onNode);
    expect(now, outcome).toHaveLength(1);
    row.runsOn = `${now[0] === from ? 'source' : 'destination'}${stateLost ? ', started anew' : ''}`;
    count = await expectCountContinues(ip, count);
    expect(await leftovers(i, name, now[0]!, kept.onNode)).toEqual([]);
    expect(await faultLeftovers(kept.onNode, to)).toEqual([]);
    // Nor on the controller: no entry, lock or half-written rewrite in the journal.
    expect(existsSync(journalDir) ? readdirSync(journalDir) : []).toEqual([]);

    // The next migration of the container succeeds.
    if (!moveAfter) return;
    const next = now[0] === 'edge-a' ? 'edge-b' : 'edge-a';
    const moved = await migrate({ inventory: i, strategy: c.strategy, container: name, from: now[0]!, to: next, predumps: 0 });
    expect(moved.outcome).toBe('migrated');
    expect(await runningOn(i, name, kept.onNode)).toEqual([next]);
    count = await expectCountContinues(ip, count);
    row.next = 'migrated';
  }

  /** `followme migrate` refuses while the killed migration is unfinished; `followme recover` settles it, and a second finds nothing. */
  async function recoverByCli(id: string, strategy: StrategyName, from: string, to: string): Promise<void> {
    const refused = await followme(['migrate', '--inventory', inventoryPath(), '--strategy', strategy, '--from', from, '--to', to, '--container', name]);
    expect(refused.exitCode, refused.stderr).toBe(3);
    expect(refused.stderr).toContain(`run \`followme recover --inventory FILE --id ${id}\` first`);
    const rec = await followme(['recover', '--inventory', inventoryPath()], { timeoutMs: 8 * 60_000 });
    expect(rec.exitCode, `${rec.stdout}\n${rec.stderr}`).toBe(0);
    expect(rec.stdout).toMatch(new RegExp(`^${id}: settled: ${name} runs on edge-[ab]$`, 'm'));
    const again = await followme(['recover', '--inventory', inventoryPath()]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout).toContain('nothing to recover');
  }
}

const rowLine = (r: MatrixRow) => `| ${r.strategy} | ${r.phase} | ${r.fault} | ${r.outcome} | ${r.runsOn} | ${r.recovered} | ${r.next} | ${r.seconds} |`;

/**
 * The one case where a container's state cannot survive, by the strategy's
 * design: diskless keeps the final dump's pages only in the destination's
 * tmpfs, so a destination destroyed after the final dump takes them.
 */
export function losesState(c: FaultCase): 'never' | 'may' | 'always' {
  if (c.strategy === 'diskless') return c.fault === 'dest-destroyed' && ['final copy', 'restore', 'source cleanup'].includes(c.phase) ? 'always' : 'never';
  // Post-copy's lazy window: the memory split between the edges; losing either, or the link, loses it, unless the last
  // page had arrived first (a blank container's few pages often have). The controller's own connection dropped, or the
  // controller killed, does not: the edges go on without it, and it reconnects (recover for a killed one).
  const lazy = hasLazyWindow(strategyNamed(c.strategy).outline(PREDUMPS)) && c.phase === LAZY_PAGES_PHASE && !CONTROLLER_VIEW.includes(c.fault);
  return lazy ? 'may' : 'never';
}

/** Faults that take the controller's view of the edges, not the edges. */
const CONTROLLER_VIEW: readonly string[] = [CONTROLLER_KILLED, 'ssh-dropped-source', 'ssh-dropped-dest'];

/**
 * Where a case that lost the state leaves the container stopped: for
 * post-copy the destination (its root file system is the newest), unless the
 * destination died (its unsynced writes with it); else the source.
 */
function stoppedOn(c: FaultCase, from: string, to: string): string {
  return hasLazyWindow(strategyNamed(c.strategy).outline(PREDUMPS)) && c.fault !== 'dest-destroyed' ? to : from;
}

/** The matrix as a Markdown table, one row per case. */
export function matrixTable(rows: MatrixRow[]): string {
  const lines = [
    '| strategy | phase | fault | outcome | container then on | recover needed | next migration | s |',
    '| --- | --- | --- | --- | --- | --- | --- | ---: |',
    ...rows.map(rowLine),
  ];
  return `${lines.join('\n')}\n`;
}

/** Each case's row as it ends, to FOLLOWME_FAULT_TABLE.progress: a run of hours stopped midway keeps the cases it ran. */
function appendProgress(row: MatrixRow): void {
  const file = process.env['FOLLOWME_FAULT_TABLE'];
  if (file) appendFileSync(`${file}.progress`, `${rowLine(row)}\n`);
}

/** Prints the table (and appends it to FOLLOWME_FAULT_TABLE when set). */
export function printMatrix(title: string, rows: MatrixRow[]): void {
  const text = `\n${title}\n\n${matrixTable(rows)}`;
  process.stdout.write(text);
  const file = process.env['FOLLOWME_FAULT_TABLE'];
  if (file) appendFileSync(file, text);
}
