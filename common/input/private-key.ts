// The controller's private key, named by an inventory: checked before any
// connection is opened. Its contents are never printed.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import ssh2 from 'ssh2';
import { ConfigError } from '../errors.js';

const MAX_KEY_BYTES = 16 * 1024;

/** Why the key file at `path` cannot be used, or undefined when it can. */
export function privateKeyProblem(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    return `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return `${path} is not a regular file`;
    if (st.size > MAX_KEY_BYTES) return `${path} is ${st.size} bytes, too large for an SSH private key`;
    // Like OpenSSH: a key others may read is refused.
    if ((st.mode & 0o077) !== 0)
      return `${path} has mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}; a private key must be readable by its owner only (chmod 600)`;
    const buf = Buffer.alloc(st.size);
    readSync(fd, buf, 0, st.size, 0);
    const parsed = ssh2.utils.parseKey(buf);
    if (parsed instanceof Error) return `${path} is not a usable SSH private key (${parsed.message})`;
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (!key?.isPrivateKey()) return `${path} holds no private key`;
    return undefined;
  } finally {
    closeSync(fd);
  }
}

export function checkPrivateKey(path: string, key: string): void {
  const problem = privateKeyProblem(path);
  if (problem) throw new ConfigError(`${key}: ${problem}`, key);
}
