// Adaptive pre-copy over scripted edges: the real engine and strategy, with
// CRIU's statistics written per round, so the rounds it does, and why it
// stops them, follow from the pages each pre-dump wrote.
import { describe, expect, it } from 'vitest';
import { migrate } from '../../migration/engine/migrate.js';
import { IMG_SERVICE_MAGIC, STATS_MAGIC, StatsEntry } from '../../migration/criu/stats.js';
import { validateRecord } from '../../migration/record/validate.js';
import { scriptedTestbed, type ScriptedAnswer } from './scripted-edge.js';

/** A stats-dump image as CRIU writes it: two magics, a length, a StatsEntry. */
function statsDump(pagesWritten: number, transferMs: number): string {
  const body = StatsEntry.encode(
    StatsEntry.create({
      dump: { freezingTime: 9000, frozenTime: 900_000, memdumpTime: (transferMs * 1000) / 2, memwriteTime: (transferMs * 1000) / 2, pagesWritten },
    }),
  ).finish();
  const head = Buffer.alloc(12);
  head.writeUInt32LE(IMG_SERVICE_MAGIC, 0);
  head.writeUInt32LE(STATS_MAGIC, 4);
  head.writeUInt32LE(body.length, 8);
  return Buffer.concat([head, body]).toString('base64');
}

/** Each pre-dump directory's pages (pre-1, pre-2, …), and the final dump's. */
function pagesPerRound(rounds: number[], finalPages: number): ScriptedAnswer {
  return (kind, argv) => {
    if (kind !== 'read-stats-dump') return undefined;
    const dirs = argv.slice(4);
    const lines = dirs.map((d) => {
      const m = /\/pre-(\d+)$/.exec(d);
      return statsDump(m ? rounds[Number(m[1]) - 1]! : finalPages, 1000);
    });
    return { stdout: `${lines.join('\n')}\n` };
  };
}

async function adaptiveMove(answer: ScriptedAnswer) {
  const tb = scriptedTestbed(answer);
  const r = await migrate({
    inventory: tb.inventory,
    strategy: 'adaptive',
    container: 'c1',
    from: 'edge-a',
    to: 'edge-b',
    connect: tb.connect,
    journalDir: tb.journalDir,
  });
  return { r: validateRecord(r), tb };
}

describe('adaptive pre-copy decides its rounds from the pages it measured', () => {
  it('goes on while the pages shrink, and stops once a round wrote 64 pages or fewer', async () => {
    const { r, tb } = await adaptiveMove(pagesPerRound([5000, 800, 40], 30));
    expect(r.outcome).toBe('migrated');
    expect(r.phases.map((p) => p.name)).toEqual([
      'rootfs copy',
      'pre-dump 1 (page server)',
      'pre-dump 2 (page server)',
      'pre-dump 3 (page server)',
      'final dump (page server)',
      'final copy',
      'restore',
    ]);
    const finalDump = r.phases.find((p) => p.kind === 'final-dump')!;
    expect(finalDump.decision).toEqual({ rule: 'few-pages', detail: 'round 3 wrote 40 pages, at most 64' });
    expect(r.phases.find((p) => p.name.startsWith('pre-dump 2'))!.decision).toEqual({
      rule: 'continue',
      detail: 'round 1 wrote 5000 pages, predicted 1000 ms',
    });
    // Each round's statistics are in the record; the final dump is linked to the last round.
    expect(r.iterations.map((i) => [i.kind, i.iteration, i.stats.pagesWritten])).toEqual([
      ['pre-dump', 1, 5000],
      ['pre-dump', 2, 800],
      ['pre-dump', 3, 40],
      ['dump', 4, 30],
    ]);
    expect(r.lastDumpPagesWritten).toBe(30);
    expect(tb.edges.get('edge-a')!.commands.find((c) => c.startsWith('criu-dump:'))).toContain('--prev-images-dir ../pre-3');
    // Each pre-dump's statistics and the destination's room were read inside its own phase, right after it: the next step depended on them.
    for (const p of r.phases.filter((x) => x.kind === 'pre-dump'))
      expect(
        p.commands
          .slice(-2)
          .map((c) => c.kind)
          .sort(),
      ).toEqual(['free-space', 'read-stats-dump']);
    // Pages streamed to the page server count as bytes moved.
    expect(r.phases.find((p) => p.name.startsWith('pre-dump 1'))!.bytes).toBe(5000 * 4096);
    // It may do up to the stop rule's 8 rounds: the record's bound.
    expect(r.predumps).toBe(8);
  });

  it('stops after a round that grew more than 10 %, and says so', async () => {
    const { r } = await adaptiveMove(pagesPerRound([5000, 6000], 6000));
    expect(r.phases.filter((p) => p.kind === 'pre-dump')).toHaveLength(2);
    expect(r.phases.find((p) => p.kind === 'final-dump')!.decision).toEqual({
      rule: 'no-convergence',
      detail: "round 2 wrote 6000 pages, 20.0 % more than round 1's 5000 (at most 10.0 %)",
    });
  });

  it('stops before the destination runs out of room for the rounds and the final dump, and says so', async () => {
    const pages = pagesPerRound([25_600, 25_600, 25_600], 25_600);
    // 150 MiB left after each 100 MiB round: not enough for another round and the final dump.
    const { r } = await adaptiveMove((kind, argv, edge) =>
      kind === 'free-space' && edge.name === 'edge-b' ? { stdout: `Avail\n${150 * 2 ** 20}\n` } : pages(kind, argv, edge),
    );
    expect(r.outcome).toBe('migrated');
    expect(r.phases.filter((p) => p.kind === 'pre-dump')).toHaveLength(1);
    expect(r.phases.find((p) => p.kind === 'final-dump')!.decision).toEqual({
      rule: 'no-room',
      detail: 'round 1 wrote 100.0 MiB; 150.0 MiB are left on the destination, under the 200.0 MiB of 2 more dumps that size',
    });
  });

  it('stops after its first round when the statistics cannot be read, and the record says why', async () => {
    const { r } = await adaptiveMove((kind) => (kind === 'read-stats-dump' ? { exitCode: 1, stderr: 'Input/output error' } : undefined));
    expect(r.outcome).toBe('migrated');
    expect(r.phases.filter((p) => p.kind === 'pre-dump')).toHaveLength(1);
    expect(r.phases.find((p) => p.kind === 'final-dump')!.decision?.rule).toBe('unmeasured');
  });
});
