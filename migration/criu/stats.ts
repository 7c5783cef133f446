// Reads CRIU's stats-dump / stats-restore images into typed values. Format: a
// u32 IMG_SERVICE_MAGIC, a u32 STATS_MAGIC, then one entry (u32 length +
// protobuf StatsEntry, CRIU's images/stats.proto). Times are microseconds.
import protobuf from 'protobufjs';
import { FollowmeError } from '../../common/errors.js';

/** Bytes per page: x86-64, the only architecture the testbed builds. */
export const PAGE_SIZE = 4096;

export const IMG_SERVICE_MAGIC = 0x55105940;
export const STATS_MAGIC = 0x57093306;

const root = protobuf.Root.fromJSON({
  nested: {
    DumpStatsEntry: {
      fields: {
        freezingTime: { type: 'uint32', id: 1 },
        frozenTime: { type: 'uint32', id: 2 },
        memdumpTime: { type: 'uint32', id: 3 },
        memwriteTime: { type: 'uint32', id: 4 },
        pagesScanned: { type: 'uint64', id: 5 },
        pagesSkippedParent: { type: 'uint64', id: 6 },
        pagesWritten: { type: 'uint64', id: 7 },
        irmapResolve: { type: 'uint32', id: 8 },
        pagesLazy: { type: 'uint64', id: 9 },
        pagePipes: { type: 'uint64', id: 10 },
        pagePipeBufs: { type: 'uint64', id: 11 },
        shpagesScanned: { type: 'uint64', id: 12 },
        shpagesSkippedParent: { type: 'uint64', id: 13 },
        shpagesWritten: { type: 'uint64', id: 14 },
      },
    },
    RestoreStatsEntry: {
      fields: {
        pagesCompared: { type: 'uint64', id: 1 },
        pagesSkippedCow: { type: 'uint64', id: 2 },
        forkingTime: { type: 'uint32', id: 3 },
        restoreTime: { type: 'uint32', id: 4 },
        pagesRestored: { type: 'uint64', id: 5 },
      },
    },
    StatsEntry: {
      fields: {
        dump: { type: 'DumpStatsEntry', id: 1 },
        restore: { type: 'RestoreStatsEntry', id: 2 },
      },
    },
  },
});
/** CRIU's StatsEntry message (images/stats.proto); exported so tests can write a stats image of their own. */
export const StatsEntry = root.lookupType('StatsEntry');

export interface DumpStats {
  freezingTimeUs: number;
  frozenTimeUs: number;
  memdumpTimeUs: number;
  memwriteTimeUs: number;
  pagesScanned: number;
  pagesSkippedParent: number;
  pagesWritten: number;
  pagesLazy: number;
}

export interface RestoreStats {
  pagesCompared: number;
  pagesSkippedCow: number;
  forkingTimeUs: number;
  restoreTimeUs: number;
  pagesRestored: number;
}

function decodeEntry(buf: Buffer, what: string): Record<string, unknown> {
  if (buf.length < 12) throw new FollowmeError(`${what}: ${buf.length} bytes, too short for a CRIU stats image`);
  const m0 = buf.readUInt32LE(0);
  const m1 = buf.readUInt32LE(4);
  if (m0 !== IMG_SERVICE_MAGIC || m1 !== STATS_MAGIC) {
    throw new FollowmeError(`${what}: not a CRIU stats image (magic 0x${m0.toString(16)} 0x${m1.toString(16)})`);
  }
  const len = buf.readUInt32LE(8);
  if (12 + len > buf.length) throw new FollowmeError(`${what}: entry of ${len} bytes runs past the end (${buf.length} bytes)`);
  const msg = StatsEntry.decode(buf.subarray(12, 12 + len));
  return StatsEntry.toObject(msg, { longs: Number, defaults: true }) as Record<string, unknown>;
}

export function parseDumpStats(buf: Buffer, what = 'stats-dump'): DumpStats {
  const d = decodeEntry(buf, what)['dump'] as Record<string, number> | undefined;
  if (!d) throw new FollowmeError(`${what}: holds no dump statistics`);
  return {
    freezingTimeUs: d['freezingTime']!,
    frozenTimeUs: d['frozenTime']!,
    memdumpTimeUs: d['memdumpTime']!,
    memwriteTimeUs: d['memwriteTime']!,
    pagesScanned: d['pagesScanned']!,
    pagesSkippedParent: d['pagesSkippedParent']!,
    pagesWritten: d['pagesWritten']!,
    pagesLazy: d['pagesLazy']!,
  };
}

export function parseRestoreStats(buf: Buffer, what = 'stats-restore'): RestoreStats {
  const r = decodeEntry(buf, what)['restore'] as Record<string, number> | undefined;
  if (!r) throw new FollowmeError(`${what}: holds no restore statistics`);
  return {
    pagesCompared: r['pagesCompared']!,
    pagesSkippedCow: r['pagesSkippedCow']!,
    forkingTimeUs: r['forkingTime']!,
    restoreTimeUs: r['restoreTime']!,
    pagesRestored: r['pagesRestored']!,
  };
}
