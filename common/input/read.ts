// Reads an input file (config, inventory, plan, trace) with a size limit:
// regular files only, so /dev/zero, a FIFO or a directory is refused
// before a byte is read, and a huge file never reaches the parser.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { ConfigError } from '../errors.js';

/** Configs, inventories, plans and traces are small; 1 MiB is far above any real one. */
export const MAX_INPUT_BYTES = 1024 * 1024;

export function readInputFile(path: string, o: { what: string; key: string; maxBytes?: number }): string {
  const max = o.maxBytes ?? MAX_INPUT_BYTES;
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (cause) {
    throw new ConfigError(`--${o.key}: cannot read ${o.what} ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, o.key, { cause });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new ConfigError(`--${o.key}: ${o.what} ${path} is not a regular file`, o.key);
    if (st.size > max) throw new ConfigError(`--${o.key}: ${o.what} ${path} is ${st.size} bytes; at most ${max} are read`, o.key);
    // Read at most max + 1 bytes: a file that grew since fstat is still caught.
    const buf = Buffer.alloc(max + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > max) throw new ConfigError(`--${o.key}: ${o.what} ${path} is over ${max} bytes`, o.key);
    }
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
