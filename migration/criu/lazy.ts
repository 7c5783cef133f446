// CRIU's lazy migration (post-copy), as remote commands and what their logs
// say. The final dump runs with --lazy-pages: it writes every image but the
// anonymous private pages, runs the post-dump hook, then serves those pages
// from the frozen source to the destination (cr_lazy_mem_dump) and kills the
// source's tasks only once the destination's `criu lazy-pages` daemon has
// taken them all. The restore (with `lazy-pages` in its CRIU config) hands
// each task's userfaultfd to that daemon, which answers page faults first and
// pushes the rest in the background (criu/uffd.c).
//
// What this means for a failure (checked in CRIU 4.1's sources):
// - the daemon, however it ends, closes its session with PS_IOV_CLOSE, and
//   the source's server takes that for success: once the daemon has
//   connected, the source's tasks are killed when it exits;
// - the source's server failing (a bad request) resumes the source's tasks,
//   but leaves CRIU's network lock and the sockets' TCP repair mode on.
export interface LazyFiles {
  /** The dump's PID, written by the launcher. */
  pidFile: string;
  /** When the launcher started the dump, in ms since the epoch on the source. */
  startedFile: string;
  /** CRIU's statistics of the dump: written only when the dump, its lazy pages included, succeeded. */
  stats: string;
}

export const lazyFilesOf = (imagesDir: string): LazyFiles => ({
  pidFile: `${imagesDir}/lazy-dump.pid`,
  startedFile: `${imagesDir}/lazy-dump.started`,
  stats: `${imagesDir}/stats-dump`,
});

/** Where the destination's daemon keeps its PID (the rollback and recover kill it by this name). */
export const lazyPagesPidFile = (imagesDir: string) => `${imagesDir}/lazy-pages.pid`;
export const lazyPagesLog = (imagesDir: string) => `${imagesDir}/lazy-pages.log`;

/**
 * Starts a lazy dump in its own session and returns once its lazy page
 * server listens (the tasks are then dumped, frozen, and the post-dump hook
 * has run), or with the dump's exit status if it ended first. It polls
 * /proc/net/tcp with shell builtins alone: an exec costs tens of ms under
 * TCG, inside the downtime. Positional parameters: pid file, started file,
 * port, bound in 20 ms steps, then the dump's argv.
 */
export function lazyDumpLauncher(dumpArgv: readonly string[], f: LazyFiles, port: number, boundMs: number): string[] {
  const script = [
    'p=$1; s=$2; port=$(printf "%04X" "$3"); n=$4; shift 4',
    'date +%s%3N > "$s" || exit 90',
    // No stdio of the SSH channel: the dump outlives this command.
    'setsid "$@" </dev/null >/dev/null 2>&1 &',
    'pid=$!; echo "$pid" > "$p" || exit 90',
    'i=0',
    'while kill -0 "$pid" 2>/dev/null; do',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
    '  while read -r _ local _ st _; do [ "${local#*:}" = "$port" ] && [ "$st" = 0A ] && exit 0; done < /proc/net/tcp',
    '  [ "$i" -lt "$n" ] || { echo "the lazy dump did not listen within its bound" >&2; exit 124; }',
    '  i=$((i+1)); sleep 0.02',
    'done',
    'wait "$pid"; rc=$?; echo "the lazy dump ended (exit $rc) before its page server listened" >&2; [ "$rc" -ne 0 ] || rc=91; exit "$rc"',
  ].join('\n');
  return ['sh', '-c', script, 'lazy-dump', f.pidFile, f.startedFile, String(port), String(Math.ceil(boundMs / 20)), ...dumpArgv];
}

/**
 * Waits until the lazy dump has ended (its last page served, or its server
 * failed), then prints how long it ran, from its start, in ms, and exits 0
 * only if CRIU wrote its statistics (it does only on success). Positional
 * parameters: pid file, started file, statistics.
 */
export function waitLazyDump(f: LazyFiles): string[] {
  return [
    'sh',
    '-c',
    'p=$(cat "$0") || exit 92; tail --pid="$p" -s 0.05 -f /dev/null; end=$(date +%s%3N); echo $((end - $(cat "$1"))); [ -f "$2" ]',
    f.pidFile,
    f.startedFile,
    f.stats,
  ];
}

/**
 * Fails the source's lazy page server on purpose, so CRIU itself resumes
 * the source's tasks (its failure path): a request with an unknown command
 * makes the server return an error before any page leaves. Then waits (5 s)
 * for the dump to end, and kills it if it did not. Only for a dump whose
 * pages no daemon has taken: exit 0 when the dump is gone. Positional
 * parameters: pid file, address, port.
 */
export function failLazyDump(f: LazyFiles, address: string, port: number): string[] {
  return [
    // bash, for /dev/tcp (the guests' sh is dash).
    'bash',
    '-c',
    'p=$(cat "$0" 2>/dev/null) || exit 0; kill -0 "$p" 2>/dev/null || exit 0; ' +
      // 24 bytes: struct page_server_iov with cmd 0xffff (unknown to every CRIU).
      `{ printf '\\377\\377\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000' > "/dev/tcp/$1/$2"; } 2>/dev/null; ` +
      'i=0; while kill -0 "$p" 2>/dev/null; do [ "$i" -lt 100 ] || { kill -9 "$p"; echo killed; exit 0; }; i=$((i+1)); sleep 0.05; done; echo failed; exit 0',
    f.pidFile,
    address,
    String(port),
  ];
}

/** The destination's lazy-pages daemon: started after the images are there, before the restore; it connects to the source once the restore hands it the tasks. */
export function lazyPagesDaemon(o: { imagesDir: string; source: string; port: number }): string[] {
  return [
    'criu',
    'lazy-pages',
    '--page-server',
    '--address',
    o.source,
    '--port',
    String(o.port),
    '-D',
    o.imagesDir,
    '--daemon',
    '--pidfile',
    lazyPagesPidFile(o.imagesDir),
    '-o',
    lazyPagesLog(o.imagesDir),
    // Debug level: its faults and copies are counted from the log.
    '-v4',
  ];
}

/** The CRIU config lines a lazy restore adds (read through CRIU_CONFIG_FILE, as lxc-checkpoint passes no options of ours). */
export const LAZY_RESTORE_CONFIG = 'lazy-pages';

/** What the destination's daemon log says of one lazy transfer. */
export interface LazyPagesCount {
  /** Pages the daemon was to bring (each task's "Found N pages to be handled by UFFD"). */
  pagesLazy: number;
  /** Pages it copied in (uffd_copy), on demand or in the background. */
  pagesCopied: number;
  /** Page faults it was asked to serve. */
  faults: number;
}

/**
 * An awk program counting, in the daemon's log: the pages it was to bring
 * (each task's "Found N pages to be handled by UFFD"), the pages it copied
 * in (uffd_copy's bytes), the faults it served (#PF) and its errors. Prints
 * "lazy copied faults errors".
 */
export const LAZY_LOG_COUNTS =
  '/pages to be handled by UFFD/ { for (i = 1; i < NF; i++) if ($i == "Found") l += $(i+1) } ' +
  '/uffd_copy: 0x/ { split($NF, a, "/"); b += a[2] } /#PF at 0x/ { f++ } /Error \\(/ { e++ } ' +
  'END { printf "%d %d %d %d\\n", l, b / 4096, f, e }';

/** What `lazyPagesProgress` reads: whether the daemon still runs, its log's counts and its errors. */
export interface LazyPagesProgress {
  running: boolean;
  count: LazyPagesCount;
  errors: number;
}

/** A command printing the daemon's state ("running" or "stopped") and its log's counts (LAZY_LOG_COUNTS), counted on the node: the log is long. */
export function lazyPagesProgressScript(imagesDir: string): string[] {
  return [
    'sh',
    '-c',
    'r=stopped; p=$(cat "$0" 2>/dev/null) && kill -0 "$p" 2>/dev/null && r=running; echo "$r"; exec awk "$1" "$2"',
    lazyPagesPidFile(imagesDir),
    LAZY_LOG_COUNTS,
    lazyPagesLog(imagesDir),
  ];
}

/** Parses what `lazyPagesProgressScript` printed; undefined when it is not that. */
export function parseLazyPagesProgress(stdout: string): LazyPagesProgress | undefined {
  const [state = '', numbers = ''] = stdout.trim().split('\n');
  const [pagesLazy = NaN, pagesCopied = NaN, faults = NaN, errors = NaN] = numbers.trim().split(' ').map(Number);
  if (![pagesLazy, pagesCopied, faults, errors].every(Number.isInteger) || !['running', 'stopped'].includes(state)) return undefined;
  return { running: state === 'running', count: { pagesLazy, pagesCopied, faults }, errors };
}
