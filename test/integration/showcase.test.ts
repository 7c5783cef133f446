// What `followme demo` runs between its up and its down, on the shared
// corridor testbed (three edges and the NFS node): the blank container (and one on the share) deployed,
// moved once by every registered strategy with the count checked around each
// move, the results table, the containers removed.
import { describe, expect, inject, it } from 'vitest';
import { readInventory } from '../../common/inventory.js';
import { deployShowcase, LOCAL_CONTAINER, removeShowcase, runMoves, SHARED_CONTAINER, showcaseMoves } from '../../experiment/showcase.js';
import { formatResultsTable } from '../../migration/record/summary.js';
import type { MigrationRecord } from '../../migration/record/schema.js';
import { strategyNames } from '../../migration/strategies/index.js';
import { stateOn } from './migration-helpers.js';

describe('the demo between up and down', () => {
  it('migrates by every registered strategy, each container back and forth, and prints one table row per migration', async () => {
    const inv = readInventory(inject('corridorInventory'));
    const seen: MigrationRecord[] = [];
    const lines: string[] = [];
    const moves = showcaseMoves(inv);
    expect(moves.map((m) => m.strategy)).toEqual(strategyNames());
    // Each container starts on edge-a and goes to the other edge at each of its moves.
    const where = new Map<string, string>();
    const expected = moves.map((m) => {
      const from = where.get(m.container) ?? 'edge-a';
      const to = from === 'edge-a' ? 'edge-b' : 'edge-a';
      where.set(m.container, to);
      return `${m.strategy} ${from}→${to} migrated`;
    });
    await deployShowcase(inv, (l) => lines.push(l));
    try {
      const records = await runMoves(inv, moves, { log: (l) => lines.push(l), onRecord: (r) => seen.push(r) });
      // On failure, say why: the log and each failed record's error.
      const why = [...lines, ...records.filter((r) => r.error).map((r) => JSON.stringify(r.error))].join('\n');
      expect(
        records.map((r) => `${r.strategy} ${r.from}→${r.to} ${r.outcome}`),
        why,
      ).toEqual(expected);
      expect(seen).toHaveLength(moves.length);
      expect(lines.filter((l) => /done, downtime \d+ ms, total [\d.]+ s, count \d+ → \d+/.test(l))).toHaveLength(moves.length);
      const table = formatResultsTable(records).split('\n');
      expect(table).toHaveLength(2 + moves.length);
      expect(table[0]).toMatch(/^strategy\s+move\s+outcome\s+downtime\s+total Ψ\s+pages last dump/);
      expect(await stateOn(inv, where.get(LOCAL_CONTAINER)!, LOCAL_CONTAINER)).toBe('RUNNING');
      expect(await stateOn(inv, where.get(SHARED_CONTAINER)!, SHARED_CONTAINER)).toBe('RUNNING');
    } finally {
      await removeShowcase(inv);
    }
    for (const node of ['edge-a', 'edge-b']) {
      expect(await stateOn(inv, node, LOCAL_CONTAINER)).toBeUndefined();
      expect(await stateOn(inv, node, SHARED_CONTAINER)).toBeUndefined();
    }
  });
});
