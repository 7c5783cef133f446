// Where `report` writes: only into the directory the user named (or
// DIR/report), never through a link. The directory itself must not be a
// link: by default it lies inside the results directory, which may come
// from anywhere. Each file is written under a fresh name (O_EXCL, so
// nothing there is followed) and renamed over its own name, which replaces
// a link instead of writing through it. File names come from a fixed
// alphabet, checked here, whatever built them.
import { randomBytes } from 'node:crypto';
import { closeSync, lstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, FollowmeError } from '../../common/errors.js';

/** What a report's file may be called: lower-case letters, digits, dots and dashes. */
export const REPORT_FILE_NAME_PATTERN = '^[a-z0-9][a-z0-9.-]{0,99}$';
const FILE_NAME = new RegExp(REPORT_FILE_NAME_PATTERN);

const codeOf = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

/** The output directory, made if absent; a ConfigError (exit 2) when it is a link or not a directory, a FollowmeError (exit 1) when it cannot be made. */
export function prepareOutputDir(dir: string, flag: string): void {
  let isLink = false;
  let isDir = false;
  try {
    const st = lstatSync(dir);
    isLink = st.isSymbolicLink();
    isDir = st.isDirectory();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new FollowmeError(`--${flag}: cannot look at ${dir}: ${codeOf(e)}`, { cause: e });
    try {
      mkdirSync(dir, { recursive: true });
      return;
    } catch (made) {
      throw new FollowmeError(`--${flag}: cannot create ${dir}: ${codeOf(made)}`, { cause: made });
    }
  }
  if (isLink) throw new ConfigError(`--${flag}: ${dir} is a symbolic link; report writes only into a directory itself (give it with --${flag})`, flag);
  if (!isDir) throw new ConfigError(`--${flag}: ${dir} exists and is not a directory`, flag);
}

/** Writes `dir/name` from `chunks` (streamed: a large runs.csv is never one string). A FollowmeError (exit 1) names the file when it cannot be written. */
export function writeReportFile(dir: string, name: string, chunks: Iterable<string>): void {
  if (!FILE_NAME.test(name))
    throw new FollowmeError(`report: refusing the file name ${JSON.stringify(name.slice(0, 120))} (allowed: ${REPORT_FILE_NAME_PATTERN})`);
  const path = join(dir, name);
  const fresh = join(dir, `.${name}.${randomBytes(6).toString('hex')}.partial`);
  let fd: number | undefined;
  try {
    fd = openSync(fresh, 'wx', 0o644);
    for (const chunk of chunks) writeSync(fd, chunk);
    closeSync(fd);
    fd = undefined;
    renameSync(fresh, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(fresh, { force: true });
    throw new FollowmeError(`report: cannot write ${path}: ${codeOf(e)}`, { cause: e });
  }
}
