// When adaptive pre-copy stops its rounds and freezes the container: a pure
// function of the rounds so far, with every limit named here. Anchors:
// p.haul stops at <= 64 pages, > 10 % growth or its 8th iteration
// (phaul/iters.py); QEMU when the predicted downtime (remaining bytes over
// the measured bandwidth) is under its 300 ms downtime limit.

import { PAGE_SIZE } from '../criu/stats.js';

export const PRE_COPY_LIMITS = {
  /** Stop when moving the pages of the next dump is predicted to take less than this (QEMU's default downtime limit). */
  predictedFinalDumpMs: 300,
  /** Stop when a round wrote at most this many pages (p.haul's MIN_ITER_PAGES_COUNT). */
  fewPages: 64,
  /** Stop when a round wrote more than this share over the round before: it is not converging (p.haul's MAX_ITER_GROW_RATE, 10 %). */
  maxGrowth: 0.1,
  /** Stop after this round whatever it measured (p.haul's MAX_ITERS_COUNT). */
  maxRounds: 8,
  /** Stop once the rounds together took this long: a container that never settles is moved anyway. */
  timeCapMs: 120_000,
  /**
   * Stop when the destination has room for fewer than this many more dumps of
   * the last round's size: the next round and the final dump. The rounds'
   * images stay there until the restore, and a full tmpfs fails the move.
   */
  roomForDumps: 2,
} as const;

export type PreCopyLimits = { readonly [K in keyof typeof PRE_COPY_LIMITS]: number };

/** One pre-dump round as the rule sees it. */
export interface PreCopyRound {
  /** Pages the round wrote (CRIU's pages_written). */
  pages: number;
  /** Time the pages took to move: CRIU's memdump and memwrite times, without its fixed work. */
  transferMs: number;
  /** The round's wall time, fixed work included. */
  durationMs: number;
  /** Free bytes where the rounds' images gather on the destination, after the round; unknown when unread. */
  roomBytes?: number;
}

export type StopRule = 'few-pages' | 'predicted-under-target' | 'no-room' | 'no-convergence' | 'round-limit' | 'time-cap' | 'unmeasured';

export type StopDecision = { stop: false; detail: string } | { stop: true; rule: StopRule; detail: string };

/** Pages × 4 KiB over the last round's throughput: how long the next dump's memory would take to move. */
export function predictedTransferMs(pages: number, last: Pick<PreCopyRound, 'pages' | 'transferMs'>): number | undefined {
  if (last.pages <= 0 || last.transferMs <= 0) return undefined;
  const bytesPerMs = (last.pages * PAGE_SIZE) / last.transferMs;
  return (pages * PAGE_SIZE) / bytesPerMs;
}

/**
 * Whether to stop pre-copying after the rounds so far (one per pre-dump, in
 * order; undefined where a round's statistics could not be read). The first
 * rule that holds, in the order below, is the reason.
 */
export function stopPreCopy(rounds: readonly (PreCopyRound | undefined)[], limits: PreCopyLimits = PRE_COPY_LIMITS): StopDecision {
  const n = rounds.length;
  const last = rounds[n - 1];
  if (n === 0) return { stop: false, detail: 'no round yet' };
  if (!last) return { stop: true, rule: 'unmeasured', detail: `round ${n}'s statistics could not be read: nothing to decide from` };
  const prev = rounds[n - 2];
  const elapsed = rounds.reduce((s, r) => s + (r?.durationMs ?? 0), 0);
  const predicted = predictedTransferMs(last.pages, last);
  const ms = (x: number) => `${Math.round(x)} ms`;
  const growth = prev && prev.pages > 0 ? (last.pages - prev.pages) / prev.pages : undefined;
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  if (last.pages <= limits.fewPages) return { stop: true, rule: 'few-pages', detail: `round ${n} wrote ${last.pages} pages, at most ${limits.fewPages}` };
  if (predicted !== undefined && predicted < limits.predictedFinalDumpMs)
    return {
      stop: true,
      rule: 'predicted-under-target',
      detail: `round ${n} wrote ${last.pages} pages in ${ms(last.transferMs)}: the final dump's pages are predicted to move in ${ms(predicted)}, under ${ms(limits.predictedFinalDumpMs)}`,
    };
  const needed = limits.roomForDumps * last.pages * PAGE_SIZE;
  if (last.roomBytes !== undefined && last.roomBytes < needed)
    return {
      stop: true,
      rule: 'no-room',
      detail: `round ${n} wrote ${mib(last.pages * PAGE_SIZE)}; ${mib(last.roomBytes)} are left on the destination, under the ${mib(needed)} of ${limits.roomForDumps} more dumps that size`,
    };
  if (growth !== undefined && growth > limits.maxGrowth)
    return {
      stop: true,
      rule: 'no-convergence',
      detail: `round ${n} wrote ${last.pages} pages, ${pct(growth)} more than round ${n - 1}'s ${prev!.pages} (at most ${pct(limits.maxGrowth)})`,
    };
  if (n >= limits.maxRounds)
    return { stop: true, rule: 'round-limit', detail: `round ${n} is the last allowed (${limits.maxRounds}); it wrote ${last.pages} pages` };
  if (elapsed >= limits.timeCapMs)
    return { stop: true, rule: 'time-cap', detail: `the ${n} rounds took ${ms(elapsed)}, at least the cap of ${ms(limits.timeCapMs)}` };
  return {
    stop: false,
    detail: `round ${n} wrote ${last.pages} pages${growth !== undefined ? ` (${growth >= 0 ? '+' : ''}${pct(growth)})` : ''}${predicted !== undefined ? `, predicted ${ms(predicted)}` : ''}`,
  };
}
