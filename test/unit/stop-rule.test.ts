// Adaptive pre-copy's stop rule on hand-worked histories: each reason, the
// order in which they are tried, and the predicted-time arithmetic.
import { describe, expect, it } from 'vitest';
import { PRE_COPY_LIMITS, predictedTransferMs, stopPreCopy, type PreCopyRound } from '../../migration/strategies/stop-rule.js';

const r = (pages: number, transferMs = 1000, durationMs = 3000): PreCopyRound => ({ pages, transferMs, durationMs });

describe('predicted final dump', () => {
  it("is the pages × 4 KiB over the last round's throughput", () => {
    // 1000 pages (4 096 000 B) moved in 200 ms: 20 480 B/ms; 500 pages (2 048 000 B) then take 100 ms.
    expect(predictedTransferMs(500, { pages: 1000, transferMs: 200 })).toBe(100);
    expect(predictedTransferMs(1000, { pages: 1000, transferMs: 200 })).toBe(200);
    // 3000 pages at 20 480 B/ms: 12 288 000 / 20 480 = 600 ms.
    expect(predictedTransferMs(3000, { pages: 1000, transferMs: 200 })).toBe(600);
  });

  it('is unknown when the last round moved nothing or took no time', () => {
    expect(predictedTransferMs(10, { pages: 0, transferMs: 5 })).toBeUndefined();
    expect(predictedTransferMs(10, { pages: 10, transferMs: 0 })).toBeUndefined();
  });
});

describe('stopPreCopy', () => {
  it('goes on while none of the rules holds, and says what it saw', () => {
    expect(stopPreCopy([])).toEqual({ stop: false, detail: 'no round yet' });
    // 5000 pages in 1 s: predicted 1000 ms, over 300 ms; no round before it.
    expect(stopPreCopy([r(5000)])).toEqual({ stop: false, detail: 'round 1 wrote 5000 pages, predicted 1000 ms' });
    // 5000 → 2000 pages: shrinking; 2000 pages in 1 s → predicted 1000 ms.
    expect(stopPreCopy([r(5000), r(2000)])).toEqual({ stop: false, detail: 'round 2 wrote 2000 pages (-60.0 %), predicted 1000 ms' });
  });

  it('stops at 64 pages or fewer (few-pages), not at 65', () => {
    expect(stopPreCopy([r(5000), r(64, 5)])).toEqual({ stop: true, rule: 'few-pages', detail: 'round 2 wrote 64 pages, at most 64' });
    expect(stopPreCopy([r(5000, 10_000), r(65, 5000)]).stop).toBe(false);
  });

  it('stops when the final dump is predicted under 300 ms (predicted-under-target), not at 300', () => {
    // 1000 pages in 200 ms: the next dump's 1000 pages predicted at 200 ms.
    expect(stopPreCopy([r(1000, 200)])).toEqual({
      stop: true,
      rule: 'predicted-under-target',
      detail: "round 1 wrote 1000 pages in 200 ms: the final dump's pages are predicted to move in 200 ms, under 300 ms",
    });
    expect(stopPreCopy([r(1000, 300)]).stop).toBe(false);
  });

  it('stops when a round grew more than 10 % over the one before (no-convergence), not at exactly 10 %', () => {
    expect(stopPreCopy([r(1000), r(1101)])).toEqual({
      stop: true,
      rule: 'no-convergence',
      detail: "round 2 wrote 1101 pages, 10.1 % more than round 1's 1000 (at most 10.0 %)",
    });
    expect(stopPreCopy([r(1000), r(1100)]).stop).toBe(false);
  });

  it('stops after the 8th round (round-limit), not after the 7th', () => {
    const steady = Array.from({ length: 8 }, () => r(1000));
    expect(stopPreCopy(steady.slice(0, 7)).stop).toBe(false);
    expect(stopPreCopy(steady)).toEqual({ stop: true, rule: 'round-limit', detail: 'round 8 is the last allowed (8); it wrote 1000 pages' });
  });

  it('stops when the destination has no room for the next round and the final dump (no-room), not with room for both', () => {
    // 25 600 pages are 100 MiB: two more dumps that size need 200 MiB.
    const mib = 2 ** 20;
    expect(stopPreCopy([r(25_600), { ...r(25_600), roomBytes: 200 * mib - 1 }])).toEqual({
      stop: true,
      rule: 'no-room',
      detail: 'round 2 wrote 100.0 MiB; 200.0 MiB are left on the destination, under the 200.0 MiB of 2 more dumps that size',
    });
    expect(stopPreCopy([r(25_600), { ...r(25_600), roomBytes: 200 * mib }]).stop).toBe(false);
    // Unread, the rule goes without.
    expect(stopPreCopy([r(25_600), r(25_600)]).stop).toBe(false);
  });

  it('stops once the rounds took the time cap (time-cap)', () => {
    const slow = [r(1000, 1000, 70_000), r(1000, 1000, 50_000)];
    expect(stopPreCopy(slow)).toEqual({ stop: true, rule: 'time-cap', detail: 'the 2 rounds took 120000 ms, at least the cap of 120000 ms' });
    expect(stopPreCopy([r(1000, 1000, 70_000), r(1000, 1000, 49_999)]).stop).toBe(false);
  });

  it('stops when a round could not be measured (unmeasured): there is nothing to decide from', () => {
    expect(stopPreCopy([r(5000), undefined])).toEqual({
      stop: true,
      rule: 'unmeasured',
      detail: "round 2's statistics could not be read: nothing to decide from",
    });
  });

  it('names the first rule that holds: few pages before growth, growth before the round limit', () => {
    // 10 pages after 5: both few and +100 %.
    expect(stopPreCopy([r(5), r(10)])).toMatchObject({ rule: 'few-pages' });
    const grows = [...Array.from({ length: 7 }, () => r(1000)), r(2000)];
    expect(stopPreCopy(grows)).toMatchObject({ rule: 'no-convergence' });
  });

  it('takes its limits from one place, and any other set of limits', () => {
    expect(PRE_COPY_LIMITS).toEqual({ predictedFinalDumpMs: 300, fewPages: 64, maxGrowth: 0.1, maxRounds: 8, timeCapMs: 120_000, roomForDumps: 2 });
    expect(stopPreCopy([r(1000)], { ...PRE_COPY_LIMITS, maxRounds: 1 })).toMatchObject({ rule: 'round-limit' });
  });
});
