// A sound migration record (tmpfs, one pre-dump) for unit tests; override fields per test.
import type { MigrationRecord } from '../../migration/record/schema.js';

const stats = {
  freezingTimeUs: 11518,
  frozenTimeUs: 1222248,
  memdumpTimeUs: 34109,
  memwriteTimeUs: 4143,
  pagesScanned: 139,
  pagesSkippedParent: 54,
  pagesWritten: 38,
  pagesLazy: 0,
};
const cmd = (label: string, ms: number) => ({ node: 'edge-a', label, remoteMs: ms - 5, wallMs: ms, exitCode: 0 });

export function record(over: Partial<MigrationRecord> = {}): MigrationRecord {
  return {
    recordVersion: 2,
    id: '20261126T101609Z-tmpfs-c1-356081',
    startedAt: '2026-11-26T10:16:09.000Z',
    strategy: 'tmpfs',
    testbed: 'fmtwo',
    container: 'c1',
    containerIp: '10.77.10.253',
    from: 'edge-a',
    to: 'edge-b',
    predumps: 1,
    outcome: 'migrated',
    phases: [
      { name: 'rootfs copy', kind: 'rootfs-copy', startMs: 0, durationMs: 9000, commands: [cmd('rsync rootfs', 8990)], bytes: 190_000_000 },
      { name: 'pre-dump 1', kind: 'pre-dump', iteration: 1, startMs: 9000, durationMs: 400, commands: [cmd('criu-pre-dump', 390)] },
      {
        name: 'pre-dump 1 copy',
        kind: 'pre-dump-copy',
        iteration: 1,
        startMs: 9400,
        durationMs: 400,
        commands: [cmd('rsync images pre-1', 390)],
        bytes: 380_000,
      },
      { name: 'final dump', kind: 'final-dump', startMs: 9800, durationMs: 2000, commands: [cmd('criu-dump', 1990)] },
      { name: 'final copy', kind: 'final-copy', startMs: 11800, durationMs: 1200, commands: [cmd('rsync images dump', 1190)], bytes: 300_000 },
      { name: 'restore', kind: 'restore', startMs: 13000, durationMs: 2000, commands: [cmd('lxc-restore', 1990)] },
    ],
    setupMs: 2500,
    totalMs: 15000,
    downtimeMs: 5200,
    downtimeRemoteMs: 5140,
    iterations: [
      { iteration: 1, kind: 'pre-dump', imagesDir: '/tmp/followme-migrations/x/pre-1', stats },
      { iteration: 2, kind: 'dump', imagesDir: '/tmp/followme-migrations/x/dump', stats },
    ],
    lastDumpPagesWritten: 38,
    restoreStats: { pagesCompared: 0, pagesSkippedCow: 0, forkingTimeUs: 100, restoreTimeUs: 900, pagesRestored: 120 },
    bytesMoved: 190_680_000,
    remoteCommandMs: 14910,
    engineOverheadMs: 90,
    cleanupMs: 2000,
    versions: {
      'edge-a': { kernel: '6.12.57+deb13-amd64', criu: '4.1.1', lxc: '6.0.4' },
      'edge-b': { kernel: '6.12.57+deb13-amd64', criu: '4.1.1', lxc: '6.0.4' },
    },
    ...over,
  };
}
