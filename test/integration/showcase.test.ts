// What `followme demo` runs between its up and its down, on the shared
// three-vm-nfs testbed: the blank container (and one on the share) deployed,
// moved once by every strategy with the count checked around each move, the
// results table, the containers removed.
import { describe, expect, inject, it } from 'vitest';
import { readInventory } from '../../common/inventory.js';
import { deployShowcase, LOCAL_CONTAINER, removeShowcase, runMoves, SHARED_CONTAINER, showcaseMoves } from '../../experiment/showcase.js';
import { formatResultsTable } from '../../migration/record/summary.js';
import type { MigrationRecord } from '../../migration/record/schema.js';
import { stateOn } from './migration-helpers.js';

describe('the demo between up and down', () => {
  it('migrates by tmpfs, diskless and shared, and prints one table row per migration', async () => {
    const inv = readInventory(inject('threeVmNfsInventory'));
    const seen: MigrationRecord[] = [];
    const lines: string[] = [];
    await deployShowcase(inv, (l) => lines.push(l));
    try {
      const records = await runMoves(inv, showcaseMoves(inv), { log: (l) => lines.push(l), onRecord: (r) => seen.push(r) });
      // On failure, say why: the log and each failed record's error.
      const why = [...lines, ...records.filter((r) => r.error).map((r) => JSON.stringify(r.error))].join('\n');
      expect(
        records.map((r) => `${r.strategy} ${r.from}→${r.to} ${r.outcome}`),
        why,
      ).toEqual(['tmpfs edge-a→edge-b migrated', 'diskless edge-b→edge-a migrated', 'shared edge-a→edge-b migrated']);
      expect(seen).toHaveLength(3);
      expect(lines.filter((l) => /done, downtime \d+ ms, total [\d.]+ s, count \d+ → \d+/.test(l))).toHaveLength(3);
      const table = formatResultsTable(records).split('\n');
      expect(table).toHaveLength(5);
      expect(table[0]).toMatch(/^strategy\s+move\s+outcome\s+downtime\s+total Ψ\s+pages last dump/);
      expect(await stateOn(inv, 'edge-a', LOCAL_CONTAINER)).toBe('RUNNING');
      expect(await stateOn(inv, 'edge-b', SHARED_CONTAINER)).toBe('RUNNING');
    } finally {
      await removeShowcase(inv);
    }
    for (const node of ['edge-a', 'edge-b']) {
      expect(await stateOn(inv, node, LOCAL_CONTAINER)).toBeUndefined();
      expect(await stateOn(inv, node, SHARED_CONTAINER)).toBeUndefined();
    }
  });
});
