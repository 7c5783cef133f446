// Where things live on the controller. Expensive, reusable artefacts (guest
// images) go to a cache outside the work tree; per-testbed state (keys,
// inventory) to a state directory, private to root.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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

export function cacheDir(): string {
  return resolve(process.env['FOLLOWME_CACHE_DIR'] ?? '/var/cache/followme');
}

export function stateDir(): string {
  return resolve(process.env['FOLLOWME_STATE_DIR'] ?? '/var/lib/followme');
}

export function testbedStateDir(prefix: string): string {
  return join(stateDir(), 'testbeds', prefix);
}
