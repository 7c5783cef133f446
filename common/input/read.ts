// Reads an input file (config, inventory, plan, trace, private key, a
// results file) with a size limit: regular files only, so /dev/zero, a FIFO
// or a directory is refused before a byte is read, and a huge file never
// reaches the parser. Large results files are read line by line.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { ConfigError } from '../errors.js';

/** Configs, inventories, plans and traces are small; 1 MiB is far above any real one. */
export const MAX_INPUT_BYTES = 1024 * 1024;

type NotRead = { ok: false; why: 'unreadable'; code: string } | { ok: false; why: 'not-a-file' } | { ok: false; why: 'too-large'; size: number };

export type BoundedRead = { ok: true; bytes: Buffer; mode: number } | NotRead;

/** An open regular file of at most `maxBytes` (the caller closes `fd`), or why not. */
function openRegularFile(path: string, maxBytes: number): { ok: true; fd: number; mode: number } | NotRead {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    return { ok: false, why: 'unreadable', code: (e as NodeJS.ErrnoException).code ?? (e as Error).message };
  }
  const st = fstatSync(fd);
  const problem: NotRead | undefined = !st.isFile()
    ? { ok: false, why: 'not-a-file' }
    : st.size > maxBytes
      ? { ok: false, why: 'too-large', size: st.size }
      : undefined;
  if (!problem) return { ok: true, fd, mode: st.mode };
  closeSync(fd);
  return problem;
}

/** The bytes of a regular file of at most `maxBytes`, with its mode; or why not. */
export function readRegularFile(path: string, maxBytes: number): BoundedRead {
  const opened = openRegularFile(path, maxBytes);
  if (!opened.ok) return opened;
  try {
    // Read at most maxBytes + 1: a file that grew since fstat is still caught.
    const buf = Buffer.alloc(maxBytes + 1);
    let n = 0;
    for (;;) {
      const got = readSync(opened.fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > maxBytes) return { ok: false, why: 'too-large', size: n };
    }
    return { ok: true, bytes: buf.subarray(0, n), mode: opened.mode };
  } finally {
    closeSync(opened.fd);
  }
}

function notReadMessage(r: NotRead, path: string, what: string, max: number): string {
  if (r.why === 'unreadable') return `cannot read ${what} ${path}: ${r.code}`;
  if (r.why === 'not-a-file') return `${what} ${path} is not a regular file`;
  return `${what} ${path} is ${r.size} bytes; at most ${max} are read`;
}

export function readInputFile(path: string, o: { what: string; key: string; maxBytes?: number }): string {
  const max = o.maxBytes ?? MAX_INPUT_BYTES;
  const r = readRegularFile(path, max);
  if (r.ok) return r.bytes.toString('utf8');
  throw new ConfigError(`--${o.key}: ${notReadMessage(r, path, o.what, max)}`, o.key);
}

export interface LineLimits {
  what: string;
  key: string;
  maxBytes: number;
  maxLineBytes: number;
}

const CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * Calls `onLine` with each complete line of a regular file of at most
 * `maxBytes`, its 1-based number and the file offset just past its line
 * break, reading a chunk at a time: memory holds
 * one chunk and one line, whatever the file's size. A last line without its
 * line break (a writer killed mid-line) is not passed on: `tornTail` says it
 * was there. A line over `maxLineBytes` is a ConfigError naming its number.
 */
export function forEachLine(
  path: string,
  o: LineLimits,
  onLine: (line: string, number: number, endByte: number) => void,
): { lines: number; tornTail: boolean } {
  const opened = openRegularFile(path, o.maxBytes);
  if (!opened.ok) throw new ConfigError(`--${o.key}: ${notReadMessage(opened, path, o.what, o.maxBytes)}`, o.key);
  const chunk = Buffer.alloc(CHUNK_BYTES);
  let carry: Buffer[] = [];
  let carried = 0;
  let number = 0;
  let total = 0;
  const tooLong = () => new ConfigError(`${path}:${number + 1}: a line of more than ${o.maxLineBytes} bytes; not a file followme wrote`, o.key);
  try {
    for (;;) {
      const got = readSync(opened.fd, chunk, 0, chunk.length, null);
      if (got === 0) break;
      const chunkAt = total;
      total += got;
      if (total > o.maxBytes) throw new ConfigError(`--${o.key}: ${o.what} ${path} grew past ${o.maxBytes} bytes while being read`, o.key);
      let start = 0;
      for (let nl = chunk.indexOf(10, 0); nl !== -1 && nl < got; nl = chunk.indexOf(10, start)) {
        if (carried + nl - start > o.maxLineBytes) throw tooLong();
        const piece = chunk.subarray(start, nl);
        const line = carried ? Buffer.concat([...carry, piece]).toString('utf8') : piece.toString('utf8');
        carry = [];
        carried = 0;
        onLine(line, ++number, chunkAt + nl + 1);
        start = nl + 1;
      }
      if (start < got) {
        carried += got - start;
        if (carried > o.maxLineBytes) throw tooLong();
        carry.push(Buffer.from(chunk.subarray(start, got)));
      }
    }
    return { lines: number, tornTail: carried > 0 };
  } finally {
    closeSync(opened.fd);
  }
}
