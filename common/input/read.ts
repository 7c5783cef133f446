// Reads an input file (config, inventory, plan, trace, private key) with a
// size limit: regular files only, so /dev/zero, a FIFO or a directory is
// refused before a byte is read, and a huge file never reaches the parser.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { ConfigError } from '../errors.js';

/** Configs, inventories, plans and traces are small; 1 MiB is far above any real one. */
export const MAX_INPUT_BYTES = 1024 * 1024;

export type BoundedRead =
  | { ok: true; bytes: Buffer; mode: number }
  | { ok: false; why: 'unreadable'; code: string }
  | { ok: false; why: 'not-a-file' }
  | { ok: false; why: 'too-large'; size: number };

/** The bytes of a regular file of at most `maxBytes`, with its mode; or why not. */
export function readRegularFile(path: string, maxBytes: number): BoundedRead {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    return { ok: false, why: 'unreadable', code: (e as NodeJS.ErrnoException).code ?? (e as Error).message };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { ok: false, why: 'not-a-file' };
    if (st.size > maxBytes) return { ok: false, why: 'too-large', size: st.size };
    // Read at most maxBytes + 1: a file that grew since fstat is still caught.
    const buf = Buffer.alloc(maxBytes + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > maxBytes) return { ok: false, why: 'too-large', size: n };
    }
    return { ok: true, bytes: buf.subarray(0, n), mode: st.mode };
  } finally {
    closeSync(fd);
  }
}

export function readInputFile(path: string, o: { what: string; key: string; maxBytes?: number }): string {
  const max = o.maxBytes ?? MAX_INPUT_BYTES;
  const r = readRegularFile(path, max);
  if (r.ok) return r.bytes.toString('utf8');
  const problem =
    r.why === 'unreadable'
      ? `cannot read ${o.what} ${path}: ${r.code}`
      : r.why === 'not-a-file'
        ? `${o.what} ${path} is not a regular file`
        : `${o.what} ${path} is ${r.size} bytes; at most ${max} are read`;
  throw new ConfigError(`--${o.key}: ${problem}`, o.key);
}
