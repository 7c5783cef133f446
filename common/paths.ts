// Where things live on the controller. Expensive, reusable artefacts (guest
// images) go to a cache outside the work tree; per-testbed state (keys,
// inventory) to a state directory, private to root.
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './errors.js';
import { hasBreakOrNul, shown } from './input/clip.js';

/** The package root (holds package.json), whether running from source or dist/. */
export function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'stacks'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the followme package root');
    dir = up;
  }
}

/** A directory named by an environment variable: unset means `fallback`; empty or relative is refused, never the current directory. */
function dirFromEnv(name: string, fallback: string): string {
  const value = process.env[name];
  if (value === undefined) return fallback;
  if (!isAbsolute(value) || hasBreakOrNul(value))
    throw new ConfigError(`${name}: ${shown(value)} is not an absolute path; set one, or unset it for ${fallback}`, name);
  return resolve(value);
}

export function cacheDir(): string {
  return dirFromEnv('FOLLOWME_CACHE_DIR', '/var/cache/followme');
}

export function stateDir(): string {
  return dirFromEnv('FOLLOWME_STATE_DIR', '/var/lib/followme');
}

export function testbedStateDir(prefix: string): string {
  return join(stateDir(), 'testbeds', prefix);
}
