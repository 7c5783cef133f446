// The report's account of post-copy's lazy window: its columns on the runs
// that had one, and a section with the window beside the downtime, naming
// each run that lost its state there.
import { describe, expect, it } from 'vitest';
import { lazyWindowBlocks } from '../../experiment/report/build.js';
import { reportRun, summaryEntries } from '../../experiment/report/table.js';
import type { RunRecord } from '../../experiment/results.js';
import { record } from './fixtures-record.js';

const lazy = (windowMs: number) => ({ restoredAtMs: 9000, lastPageAtMs: 9000 + windowMs, windowMs, pagesLazy: 17000, pagesSentLazily: 17000, faults: 3700 });

function run(repetition: number, over: Partial<RunRecord> = {}, migration: Parameters<typeof record>[0] = {}): RunRecord {
  const key = `gigabit/memory/postcopy/${repetition}`;
  return {
    key,
    index: repetition,
    experiment: 'x',
    profile: 'gigabit',
    workload: 'memory',
    strategy: 'postcopy',
    repetition,
    from: 'edge-a',
    to: 'edge-b',
    startedAt: '2026-12-07T22:00:00.000Z',
    outcome: 'migrated',
    probe: { sent: 10, answered: 9 },
    state: { before: '1', after: '2' },
    timeline: `timelines/gigabit_memory_postcopy_${repetition}.json`,
    migration: record({ strategy: 'postcopy', ...migration }),
    ...over,
  } as unknown as RunRecord;
}

const runs = [
  run(1, {}, { lazy: lazy(11_000) }),
  run(2, {}, { lazy: lazy(13_000) }),
  run(
    3,
    { outcome: 'failed' },
    {
      outcome: 'failed',
      lazy: { ...lazy(0), windowMs: undefined, lastPageAtMs: undefined, pagesSentLazily: 900, pagesNotArrived: 16100 } as never,
      error: {
        phase: 'lazy pages',
        message: 'no page arrived',
        rollback: 'stopped',
        stateLost: 'the container ran on edge-b with 16100 pages still on edge-a',
      },
    },
  ),
].map(reportRun);

describe("the report's lazy window", () => {
  it('gives runs with a lazy window its columns, and a lost one the pages that never arrived and why', () => {
    expect(runs[0]!.row).toMatchObject({ lazy_window_ms: 11_000, lazy_page_count: 17000, lazy_faults: 3700 });
    expect(runs[0]!.row).not.toHaveProperty('state_lost');
    expect(runs[2]!.row).toMatchObject({ lazy_pages_not_arrived: 16100, state_lost: 'the container ran on edge-b with 16100 pages still on edge-a' });
  });

  it('sets the window beside the downtime over the runs that migrated, and names the run that lost its state', () => {
    const blocks = lazyWindowBlocks(runs, summaryEntries(runs));
    const table = blocks.find((b) => b.kind === 'table') as { rows: string[][] };
    expect(table.rows).toHaveLength(1);
    expect(table.rows[0]!.slice(0, 4)).toEqual(['gigabit', 'memory', 'postcopy', '2']);
    expect(table.rows[0]![5]).toMatch(/^12000 ± \d+$/);
    const lost = blocks.find((b) => b.kind === 'list') as { items: string[] };
    expect(lost.items).toEqual(['gigabit/memory/postcopy/3: the container ran on edge-b with 16100 pages still on edge-a']);
  });

  it('says nothing for results without a lazy window', () => {
    const plain = [reportRun(run(1))];
    expect(lazyWindowBlocks(plain, summaryEntries(plain))).toEqual([]);
  });
});
