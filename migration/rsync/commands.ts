// The seam to rsync: argv builders and the parser of --stats. Edge-to-edge
// copies go straight between the edges: the receiving edge runs a
// short-lived rsync daemon bound to its testbed address that only the
// sending edge may reach (the testbed network is isolated; no key material
// leaves the controller), and the sending edge pushes to it. The daemon
// exports only what the migration copies, one module per directory, each
// chrooted to its path: the sender can write nowhere else.
import { configValue } from '../../common/input/config-values.js';
import { isSafeComponent } from '../../common/input/remote-path.js';
import { ConfigError } from '../../common/errors.js';

export interface RsyncReceiver {
  address: string;
  port: number;
  /** Module name → the directory it exports (writable by the sender, nothing above it). */
  modules: Record<string, string>;
  /** Directory on the receiver holding the daemon's config and pid file. */
  runDir: string;
}

/**
 * rsyncd.conf for one migration. `use chroot = yes` confines each transfer
 * to its module's directory (symlinks are then stored as they are, not
 * followed). `munge symlinks` stays off: a munged rootfs loses its
 * merged-/usr links (/bin → usr/bin) and CRIU's `parent` links.
 */
export function receiverConfig(r: RsyncReceiver, allowFrom: string): string {
  const v = (what: string, kind: Parameters<typeof configValue>[2], value: string | number) => configValue('rsyncd.conf', what, kind, value);
  const lines = [
    `pid file = ${v('run dir', 'path', r.runDir)}/rsyncd.pid`,
    'use chroot = yes',
    'munge symlinks = no',
    'numeric ids = yes',
    'max connections = 4',
  ];
  for (const [name, path] of Object.entries(r.modules)) {
    lines.push(
      `[${v('module', 'token', name)}]`,
      `path = ${v('module path', 'path', path)}`,
      'read only = false',
      'uid = root',
      'gid = root',
      `hosts allow = ${v('allowed host', 'ipv4', allowFrom)}`,
      'hosts deny = *',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `rsync://address:port/module/sub/path/`: every part a plain path component. */
export function moduleUrl(r: RsyncReceiver, module: string, subpath = ''): string {
  if (!Object.hasOwn(r.modules, module)) throw new ConfigError(`rsync receiver on ${r.address} has no module "${module}"`, 'module');
  const parts = subpath.split('/').filter((p) => p !== '');
  if (!parts.every(isSafeComponent)) throw new ConfigError(`rsync destination ${JSON.stringify(subpath)} is not a plain relative path`, 'path');
  return `rsync://${r.address}:${r.port}/${[module, ...parts].join('/')}/`;
}

/** Seconds rsync waits for the daemon to answer, and for any I/O once it does. */
export const RSYNC_CONNECT_TIMEOUT_S = 15;
export const RSYNC_IO_TIMEOUT_S = 60;

/** What every push passes: archive mode, numeric ids, the --stats bytes are read from, and its bounds. */
const PUSH_OPTIONS = [
  '-a',
  '--numeric-ids',
  '--stats',
  // A cut link fails the copy in seconds, not after the kernel's retries (minutes) or the step's bound.
  `--contimeout=${RSYNC_CONNECT_TIMEOUT_S}`,
  `--timeout=${RSYNC_IO_TIMEOUT_S}`,
];

export const rsync = {
  /** Forks into the background once it listens. */
  daemon: (r: RsyncReceiver) => ['rsync', '--daemon', `--config=${r.runDir}/rsyncd.conf`, `--address=${r.address}`, `--port=${r.port}`],
  /**
   * Copies `src` (a directory; its contents) into a module of the receiver,
   * at `subpath` below its root. `mirror` deletes on the receiver what is
   * gone at the source.
   */
  push: (src: string, r: RsyncReceiver, module: string, subpath = '', opts: { mirror?: boolean; progress?: boolean } = {}) => [
    'rsync',
    ...PUSH_OPTIONS,
    ...(opts.mirror ? ['--delete'] : []),
    ...(opts.progress ? ['--info=progress2'] : []),
    `${src.replace(/\/+$/, '')}/`,
    moduleUrl(r, module, subpath),
  ],
  /**
   * Pushes what changed in `src` since `marker`'s time: files and directories
   * whose contents or metadata are newer (a directory is when an entry was
   * added, removed or renamed in it). The list goes to `list`; rsync sends
   * those paths, recursing into the listed directories with --delete, so
   * removals reach the receiver too. Nothing changed: no rsync at all, and
   * the same --stats line rsync prints, with 0 bytes.
   */
  pushChanged: (src: string, marker: string, list: string, r: RsyncReceiver, module: string) => [
    'sh',
    '-c',
    'cd "$1" && find . \\( -newer "$2" -o -cnewer "$2" \\) -print0 > "$3" || exit 1; [ -s "$3" ] || { echo "Total bytes sent: 0"; exit 0; }; shift 3; exec "$@"',
    'rootfs-changes',
    src,
    marker,
    list,
    'rsync',
    ...PUSH_OPTIONS,
    // --files-from turns off the recursion -a implies: the listed directories are recursed into again.
    '-r',
    '--delete',
    '--from0',
    `--files-from=${list}`,
    './',
    moduleUrl(r, module),
  ],
} as const;

/**
 * Two commands at once (the final images and the rootfs changes: both after
 * the freeze, so their times overlap instead of adding up). Fails with the
 * first one's status if it failed, else with the second's.
 */
export function concurrently(a: readonly string[], b: readonly string[]): string[] {
  return [
    'bash',
    '-c',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash's own ${…}, not a template
    'n=$1; shift; a=("${@:1:n}"); b=("${@:n+1}"); "${a[@]}" & p=$!; "${b[@]}"; rb=$?; wait "$p"; ra=$?; [ "$ra" -ne 0 ] && exit "$ra"; exit "$rb"',
    'concurrently',
    String(a.length),
    ...a,
    ...b,
  ];
}

/** Every "Total bytes sent" of the output added up (concurrent rsyncs print one each). */
export function parseAllBytesSent(stdout: string): number {
  return [...stdout.matchAll(/^Total bytes sent:\s*([\d,.]+)/gm)].reduce((s, m) => s + Number(m[1]!.replace(/[,.]/g, '')), 0);
}

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
