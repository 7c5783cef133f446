// Keeps the image cache from growing without bound: every recipe change (a
// guest file, a package) builds a new image of about 0.8 GB. Each use stamps
// its image; after a use, only the most recently used few stay. Running
// testbeds never read the cache (their base image and kernel are copied into
// their libvirt pool), so removing an old image breaks none of them; the next
// `up` of an old recipe builds it again.
import { existsSync } from 'node:fs';
import { readdir, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** How many images stay in the cache: the one just used and the most recently used others. */
export const IMAGES_KEPT = 3;

const STAMP = 'last-used';
const KEY = /^[0-9a-f]{64}$/;
/** A build, or a removal, by a process: left behind if that process died. */
const UNFINISHED = /^([0-9a-f]{64})\.(partial|removing)-(\d+)$/;

/** Records that the image in `dir` was just used. */
export async function stampUse(dir: string, now = new Date()): Promise<void> {
  const stamp = join(dir, STAMP);
  await writeFile(stamp, '');
  await utimes(stamp, now, now);
}

export interface CachedImage {
  key: string;
  lastUsedMs: number;
}

/** Which images go: all but the one in use and the `kept - 1` most recently used others. Images being built (locked) stay. */
export function imagesToRemove(images: readonly CachedImage[], inUse: string, locked: ReadonlySet<string>, kept = IMAGES_KEPT): string[] {
  const others = images.filter((i) => i.key !== inUse && !locked.has(i.key)).sort((a, b) => b.lastUsedMs - a.lastUsedMs);
  return others.slice(Math.max(0, kept - 1)).map((i) => i.key);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface Pruned {
  removed: string[];
  bytes: number;
}

async function sizeOf(path: string): Promise<number> {
  const s = await stat(path);
  if (!s.isDirectory()) return s.size;
  let total = 0;
  for (const e of await readdir(path)) total += await sizeOf(join(path, e));
  return total;
}

/**
 * Removes the images `imagesToRemove` picks, and what builds or removals by processes that are gone left behind. An image is first
 * renamed away, so a reader never finds a half-removed one under its key. An image without a stamp (made before
 * stamps) counts as last used when its recipe was written.
 */
export async function pruneImages(images: string, inUse: string, kept = IMAGES_KEPT): Promise<Pruned> {
  const names = await readdir(images);
  const locked = new Set(names.filter((n) => n.endsWith('.lock')).map((n) => n.slice(0, -'.lock'.length)));
  const found: CachedImage[] = [];
  for (const name of names) {
    if (!KEY.test(name) || !existsSync(join(images, name, 'recipe.json'))) continue;
    const stamp = join(images, name, STAMP);
    const lastUsedMs = (await stat(existsSync(stamp) ? stamp : join(images, name, 'recipe.json'))).mtimeMs;
    found.push({ key: name, lastUsedMs });
  }
  const doomed = imagesToRemove(found, inUse, locked, kept).map((key) => ({ name: key, key, label: key.slice(0, 12) }));
  for (const name of names) {
    const m = UNFINISHED.exec(name);
    if (m && !alive(Number(m[3])))
      doomed.push({ name, key: m[1]!, label: `${m[1]!.slice(0, 12)} (a ${m[2] === 'partial' ? 'build' : 'removal'} that did not finish)` });
  }
  const pruned: Pruned = { removed: [], bytes: 0 };
  for (const { name, key, label } of doomed) {
    // Named by the key alone: if this process dies mid-removal, the next prune recognises what it left.
    const away = join(images, `${key}.removing-${process.pid}`);
    try {
      await rename(join(images, name), away);
    } catch {
      continue; // another process removed or renamed it first
    }
    pruned.bytes += await sizeOf(away).catch(() => 0);
    await rm(away, { recursive: true, force: true });
    pruned.removed.push(label);
  }
  return pruned;
}
