import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDumpStats, parseRestoreStats } from '../../migration/criu/stats.js';
import { FollowmeError } from '../../common/errors.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/criu/${name}`, import.meta.url));

describe('CRIU stats images', () => {
  it('reads a real stats-dump of the blank container', () => {
    const s = parseDumpStats(fixture('stats-dump'));
    expect(s).toEqual({
      freezingTimeUs: 116326,
      frozenTimeUs: 1586683,
      memdumpTimeUs: 16174,
      memwriteTimeUs: 2754,
      pagesScanned: 142,
      pagesSkippedParent: 0,
      pagesWritten: 95,
      pagesLazy: 0,
    });
  });

  it('reads a real stats-restore', () => {
    const s = parseRestoreStats(fixture('stats-restore'));
    expect(s).toEqual({ pagesCompared: 0, pagesSkippedCow: 0, forkingTimeUs: 9150, restoreTimeUs: 1537628, pagesRestored: 95 });
  });

  it('refuses what is not a stats image, or the wrong kind of stats', () => {
    expect(() => parseDumpStats(Buffer.from('not a criu image at all'), 'x.img')).toThrow(/x\.img: not a CRIU stats image/);
    expect(() => parseDumpStats(fixture('stats-restore'))).toThrow(FollowmeError);
    expect(() => parseDumpStats(fixture('stats-dump').subarray(0, 20))).toThrow(/runs past the end/);
  });
});
