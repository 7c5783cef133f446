// Test helpers for migrations on a real testbed: the container's in-memory
// count over HTTP, where it runs, and what a migrated record must show.
import { expect } from 'vitest';
import type { Inventory } from '../../common/inventory.js';
import { containerState } from '../../migration/container.js';
import type { MigrationRecord } from '../../migration/record/schema.js';
import { validateRecord, PHASE_SUM_TOLERANCE } from '../../migration/record/validate.js';
import { onNode } from './ssh.js';
import { readCount } from '../../workloads/blank.js';
import { eventually } from '../../workloads/http.js';
import { NotYet, poll, sleep } from '../../common/poll.js';

/** The count, read by the engine's own probe (bounded retries: right after a start the page may not exist yet). */
export function count(ip: string): Promise<number> {
  return eventually(() => readCount(ip), 60, 500);
}

/**
 * Waits (bounded) until the count reaches `atLeast`, so that a counter
 * restarted from 1 could not reach the value read before a move in the few
 * seconds between the restore and the next read.
 */
export async function countAtLeast(ip: string, atLeast: number, maxWaitS = 90): Promise<number> {
  const { value } = await poll(
    async () => {
      const n = await count(ip);
      if (n < atLeast) throw new NotYet(`count ${n}`);
      return n;
    },
    { timeoutMs: maxWaitS * 1000, intervalMs: 1000 },
  );
  expect(value).toBeGreaterThanOrEqual(atLeast);
  return value;
}

export async function stateOn(inv: Inventory, node: string, name: string) {
  return onNode(inv, node, (c) => containerState(c, name));
}

/** The count goes on from where it was and keeps going. */
export async function expectCountContinues(ip: string, before: number): Promise<number> {
  const after = await count(ip);
  expect(after).toBeGreaterThanOrEqual(before);
  await sleep(1500);
  const later = await count(ip);
  expect(later).toBeGreaterThan(after);
  return later;
}

/** What every successful migration's record must show. */
export function expectSoundRecord(r: MigrationRecord, strategy: string, predumps: number): void {
  expect(() => validateRecord(JSON.parse(JSON.stringify(r)))).not.toThrow();
  expect(r.outcome).toBe('migrated');
  expect(r.strategy).toBe(strategy);
  const sum = r.phases.reduce((s, p) => s + p.durationMs, 0);
  expect(Math.abs(sum - r.totalMs)).toBeLessThanOrEqual(PHASE_SUM_TOLERANCE * r.totalMs);
  expect(r.iterations.filter((i) => i.kind === 'pre-dump')).toHaveLength(predumps);
  expect(r.iterations.at(-1)?.kind).toBe('dump');
  expect(r.lastDumpPagesWritten).toBeGreaterThan(0);
  expect(r.downtimeMs).toBeGreaterThan(0);
  expect(r.downtimeMs!).toBeLessThan(r.totalMs);
  expect(r.restoreStats?.pagesRestored).toBeGreaterThan(0);
  // The final dump skips pages its parent already holds (unless it was a
  // second attempt, which dumps everything: its failed first try shows).
  const finalRetried = r.phases.some(
    (p) => p.kind === 'final-dump' && p.commands.some((c) => (c.kind === 'criu-dump' || c.kind === 'criu-page-server') && c.exitCode !== 0),
  );
  if (predumps >= 1 && !finalRetried) expect(r.iterations.at(-1)!.stats.pagesSkippedParent).toBeGreaterThan(0);
  for (const v of Object.values(r.versions)) {
    expect(v.criu).toMatch(/^\d+\.\d+/);
    expect(v.kernel).toMatch(/^\d+\.\d+/);
  }
  // The accounting, from the phases themselves: remote time is the commands' own, each command's
  // remote time lies within its wall time, and the phases' commands cannot take longer than Ψ.
  const commands = r.phases.flatMap((p) => p.commands);
  expect(r.remoteCommandMs).toBeCloseTo(
    commands.reduce((s, c) => s + c.remoteMs, 0),
    3,
  );
  for (const c of commands) expect(c.remoteMs).toBeLessThanOrEqual(c.wallMs + 1);
  expect(r.remoteCommandMs).toBeLessThanOrEqual(r.totalMs);
  expect(r.engineOverheadMs).toBeGreaterThanOrEqual(0);
}
