// The controller's private key, named by an inventory: checked before any
// connection is opened. Its contents are never printed.
import ssh2 from 'ssh2';
import { ConfigError } from '../errors.js';
import { readRegularFile } from './read.js';

const MAX_KEY_BYTES = 16 * 1024;

/** Why the key file at `path` cannot be used, or undefined when it can. */
export function privateKeyProblem(path: string): string | undefined {
  const r = readRegularFile(path, MAX_KEY_BYTES);
  if (!r.ok) {
    if (r.why === 'unreadable') return `cannot read ${path}: ${r.code}`;
    if (r.why === 'not-a-file') return `${path} is not a regular file`;
    return `${path} is ${r.size} bytes, too large for an SSH private key`;
  }
  // Like OpenSSH: a key others may read is refused.
  if ((r.mode & 0o077) !== 0)
    return `${path} has mode ${(r.mode & 0o777).toString(8).padStart(4, '0')}; a private key must be readable by its owner only (chmod 600)`;
  const parsed = ssh2.utils.parseKey(r.bytes);
  if (parsed instanceof Error) return `${path} is not a usable SSH private key (${parsed.message})`;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key?.isPrivateKey()) return `${path} holds no private key`;
  return undefined;
}

export function checkPrivateKey(path: string, key: string): void {
  const problem = privateKeyProblem(path);
  if (problem) throw new ConfigError(`${key}: ${problem}`, key);
}
