// The controller killed with SIGKILL in the middle of a migration, once per
// strategy at a different moment, then `followme recover`: the container
// runs in exactly one place with its count going on, nothing of the
// migration is left on the edges (or the share), a second recover finds
// nothing, and the next migration of the container succeeds.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readInventory } from '../../common/inventory.js';
import { journalDirFor, unfinishedMigrations } from '../../migration/journal.js';
import { followme } from './cli.js';
import { deployBlankOnEdgeA, leftovers, migrateKilledAt, removeEverywhere, runningOn } from './fault-helpers.js';
import { countAtLeast, expectCountContinues } from './migration-helpers.js';

interface Case {
  strategy: 'tmpfs' | 'diskless' | 'shared';
  /** The progress line after which the controller dies, and how long after it. */
  at: RegExp;
  delayMs: number;
  /** Where the container may be after recover (a restore in flight may finish or not). */
  expectOn: 'source' | 'destination' | 'either';
}

function recoverSuite(stack: 'twoVmInventory' | 'threeVmNfsInventory', name: string, cases: Case[]) {
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
    it(`${c.strategy}: killed ${c.delayMs} ms after "${c.at.source}", recover leaves ${name} running once with its count, and the next migration succeeds`, async () => {
      const i = inv();
      const [from] = await runningOn(i, name);
      expect(from).toBeDefined();
      const to = from === 'edge-a' ? 'edge-b' : 'edge-a';
      const printed = await migrateKilledAt(inventoryPath(), ['--strategy', c.strategy, '--from', from!, '--to', to, '--container', name], c.at, c.delayMs);

      // The journal holds the migration and the step it was at.
      const [entry] = unfinishedMigrations(journalDirFor(i.prefix));
      expect(entry, printed).toMatchObject({ container: name, strategy: c.strategy, from, to });

      // Refused until recovered.
      const refused = await followme(['migrate', '--inventory', inventoryPath(), '--strategy', c.strategy, '--from', from!, '--to', to, '--container', name]);
      expect(refused.exitCode, refused.stderr).toBe(3);
      expect(refused.stderr).toContain(`run \`followme recover --inventory FILE --id ${entry!.id}\` first`);

      const rec = await followme(['recover', '--inventory', inventoryPath()], { timeoutMs: 8 * 60_000 });
      expect(rec.exitCode, `${rec.stdout}\n${rec.stderr}`).toBe(0);
      expect(rec.stdout).toMatch(new RegExp(`^${entry!.id}: settled: ${name} runs on edge-[ab]$`, 'm'));
      const now = await runningOn(i, name);
      expect(now, rec.stdout).toHaveLength(1);
      if (c.expectOn !== 'either') expect(now[0]).toBe(c.expectOn === 'source' ? from : to);
      count = await expectCountContinues(ip, count);
      expect(await leftovers(i, name, now[0]!)).toEqual([]);
      expect(unfinishedMigrations(journalDirFor(i.prefix))).toEqual([]);

      const again = await followme(['recover', '--inventory', inventoryPath()]);
      expect(again.exitCode, again.stderr).toBe(0);
      expect(again.stdout).toContain('nothing to recover');

      // The next migration of the container succeeds.
      const next = now[0] === 'edge-a' ? 'edge-b' : 'edge-a';
      const moved = await followme([
        'migrate',
        '--inventory',
        inventoryPath(),
        '--strategy',
        c.strategy,
        '--from',
        now[0]!,
        '--to',
        next,
        '--container',
        name,
        '--predumps',
        '0',
      ]);
      expect(moved.exitCode, moved.stderr).toBe(0);
      expect(await runningOn(i, name)).toEqual([next]);
      count = await expectCountContinues(ip, count);
    });
  }
}

describe('controller killed mid-migration, then recover (two-vm)', () => {
  recoverSuite('twoVmInventory', 'rec2', [
    // After the final dump: the container runs nowhere; its images are on both edges' tmpfs.
    { strategy: 'tmpfs', at: /final copy …/, delayMs: 300, expectOn: 'source' },
    // During a pre-dump: the container still runs on the source; a page server and the rsync daemon run on the destination.
    { strategy: 'diskless', at: /pre-dump 1 \(page server\) …/, delayMs: 200, expectOn: 'source' },
  ]);
});

describe('controller killed mid-migration, then recover (three-vm-nfs)', () => {
  recoverSuite('threeVmNfsInventory', 'rec3', [
    // During the restore: it may finish on the destination without its controller.
    { strategy: 'shared', at: /restore …/, delayMs: 500, expectOn: 'either' },
  ]);
});
