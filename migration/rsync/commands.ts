// The seam to rsync: argv builders and the parser of --stats. Edge-to-edge
// copies go straight between the edges: the receiving edge runs a short-lived
// rsync daemon bound to its testbed address that only the sending edge may
// reach (the testbed network is isolated; no key material leaves the
// controller), and the sending edge pushes to it.

export interface RsyncReceiver {
  address: string;
  port: number;
  module: string;
  /** Directory on the receiver holding the daemon's config and pid file. */
  runDir: string;
}

/**
 * rsyncd.conf for one migration. `munge symlinks` must be off: with
 * `use chroot = no` rsyncd rewrites every symlink to /rsyncd-munged/…, which
 * breaks a merged-/usr root file system (/bin → usr/bin) and CRIU's
 * `parent` links between image directories.
 */
export function receiverConfig(r: RsyncReceiver, allowFrom: string): string {
  return [
    `pid file = ${r.runDir}/rsyncd.pid`,
    'use chroot = no',
    'munge symlinks = no',
    'numeric ids = yes',
    `[${r.module}]`,
    'path = /',
    'read only = false',
    'uid = root',
    'gid = root',
    `hosts allow = ${allowFrom}`,
    'hosts deny = *',
    '',
  ].join('\n');
}

export const rsync = {
  /** Forks into the background once it listens. */
  daemon: (r: RsyncReceiver) => ['rsync', '--daemon', `--config=${r.runDir}/rsyncd.conf`, `--address=${r.address}`, `--port=${r.port}`],
  /**
   * Copies `src` (a directory; its contents) to the same kind of path on the
   * receiver. `mirror` deletes on the receiver what is gone at the source.
   */
  push: (src: string, r: RsyncReceiver, destPath: string, opts: { mirror?: boolean; progress?: boolean } = {}) => [
    'rsync',
    '-a',
    '--numeric-ids',
    '--stats',
    ...(opts.mirror ? ['--delete'] : []),
    ...(opts.progress ? ['--info=progress2'] : []),
    `${src.replace(/\/+$/, '')}/`,
    `rsync://${r.address}:${r.port}/${r.module}${destPath.replace(/\/+$/, '')}/`,
  ],
} as const;

/** "Total bytes sent: 190,294,701" from `rsync --stats`. */
export function parseBytesSent(stdout: string): number | undefined {
  const m = /^Total bytes sent:\s*([\d,.]+)/m.exec(stdout);
  if (!m) return undefined;
  const n = Number(m[1]!.replace(/[,.]/g, ''));
  return Number.isFinite(n) ? n : undefined;
}

/** The latest "45%   10.50MB/s" of `--info=progress2` output in a chunk. */
export function parseProgress(chunk: string): { percent: number; rate: string } | undefined {
  const all = [...chunk.matchAll(/\s(\d{1,3})%\s+(\S+\/s)/g)];
  const m = all.at(-1);
  return m ? { percent: Number(m[1]), rate: m[2]! } : undefined;
}
