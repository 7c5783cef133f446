// Reading CRIU's own log after a failed dump: CRIU writes its errors to the
// log file, not to stderr, and some of them have a cause worth naming.

/** A task CRIU could not stop ("Unseizable non-zombie <pid> found, state <s>"). */
export interface UnseizableTask {
  pid: number;
  /** The task's state letter in /proc/<pid>/stat when CRIU gave up (D: uninterruptible sleep). */
  state: string;
}

/** The task CRIU named as unseizable in its error lines, if it named one. */
export function findUnseizableTask(errorLines: string): UnseizableTask | undefined {
  const m = /Unseizable non-zombie (\d+) found, state (\S)/.exec(errorLines);
  return m ? { pid: Number(m[1]), state: m[2]! } : undefined;
}

/**
 * Why a task in state D stops a dump, for the error message. CRIU seizes
 * every task within its --timeout (10 s by default); a task that stays in
 * uninterruptible sleep that long cannot be stopped. Seen here: a dash
 * script's vfork parent (it waits in D until the child execs, and CRIU holds
 * the child before the exec) and a task waiting on NFS.
 */
export function explainUnseizable(task: UnseizableTask, comm: string | undefined): string {
  const who = `pid ${task.pid}${comm ? ` (${comm})` : ''}`;
  if (task.state !== 'D') return `${who} could not be stopped by CRIU (state ${task.state})`;
  return (
    `${who} stayed in uninterruptible sleep (state D) while CRIU froze the container, so it could not be stopped. ` +
    'Typical causes: a /bin/sh (dash) script waiting on vfork for a child CRIU holds before its exec (run such scripts with bash), or I/O on a slow or NFS file system'
  );
}

/** Less room than this where a dump wrote its images: it ran out of room. */
const FULL_BELOW_BYTES = 4 * 2 ** 20;

/**
 * A command printing, after a failed dump, its log's last errors, its first
 * unseizable task (which may come before them) and the room left where its
 * images are, separated by "---" lines: a full tmpfs fails the dump before
 * CRIU can log why (its log is in the same directory).
 */
export function failedDumpScript(log: string, imagesDir: string): string[] {
  return [
    'sh',
    '-c',
    'grep -h "Error" "$0" | tail -n 3; echo ---; grep -h -m1 "Unseizable" "$0"; echo ---; df --output=avail -B1 "$1" | tail -n 1',
    log,
    imagesDir,
  ];
}

/** What `failedDumpScript` printed: the error lines, the unseizable line, and why the images directory is full if it is. */
export function parseFailedDump(stdout: string, imagesDir: string): { errorLines: string; unseizable: string; full: string | undefined } {
  const [errorLines = '', unseizable = '', avail = ''] = stdout.split(/^---$/m).map((t) => t.trim());
  const full =
    /^\d+$/.test(avail) && Number(avail) < FULL_BELOW_BYTES ? `the file system of ${imagesDir} is full (${Number(avail) >> 10} KiB free)` : undefined;
  return { errorLines, unseizable, full };
}
