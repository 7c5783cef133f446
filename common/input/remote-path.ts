// The second line of defence for paths on a node: a path built from input
// (a container name, a migration id) must stay under its base directory.
// Input is checked before this is reached; if something slipped through,
// nothing is run.
import { posix } from 'node:path';
import { ConfigError } from '../errors.js';
import { clip, hasBreakOrNul } from './clip.js';

export class UnsafePathError extends ConfigError {
  override name = 'UnsafePathError';
}

/** One path component: not empty, not . or .., no slash, NUL or line break. */
export function isSafeComponent(part: string): boolean {
  return part.length > 0 && part.length <= 255 && part !== '.' && part !== '..' && !part.includes('/') && !hasBreakOrNul(part);
}

/** `base`/`parts…`, or UnsafePathError when a part could leave `base` or name it. */
export function underBase(base: string, ...parts: string[]): string {
  if (!posix.isAbsolute(base) || posix.normalize(base) !== base || hasBreakOrNul(base)) {
    throw new UnsafePathError(`remote base ${clip(JSON.stringify(base))} is not a normalized absolute path`, 'path');
  }
  for (const p of parts) {
    if (!isSafeComponent(p))
      throw new UnsafePathError(`path component ${clip(JSON.stringify(p))} under ${base} is empty, "." or "..", or holds a slash or a line break`, 'path');
  }
  return posix.join(base, ...parts);
}

/** `path` itself, or UnsafePathError unless it lies strictly below `base` once normalized. */
export function assertUnder(base: string, path: string): string {
  const norm = posix.normalize(path);
  const b = base.replace(/\/+$/, '');
  if (!posix.isAbsolute(path) || hasBreakOrNul(path) || !norm.startsWith(`${b}/`) || norm !== path.replace(/\/+$/, '')) {
    throw new UnsafePathError(`remote path ${clip(JSON.stringify(path))} is not a plain path below ${base}`, 'path');
  }
  return path;
}
