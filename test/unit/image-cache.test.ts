import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { imagesToRemove, pruneImages, stampUse } from '../../provision/image/cache.js';
import { scratchDir } from '../scratch.js';

const key = (c: string) => c.repeat(64);
const DAY = 86_400_000;

/** A complete cached image: recipe.json, a 1000-byte rootfs, last used `daysAgo` days ago. */
async function image(images: string, k: string, daysAgo: number): Promise<void> {
  const dir = join(images, k);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'recipe.json'), '{}');
  writeFileSync(join(dir, 'rootfs.qcow2'), Buffer.alloc(1000));
  await stampUse(dir, new Date(Date.now() - daysAgo * DAY));
}

describe('image cache pruning', () => {
  it('keeps the image in use and the most recently used others, whatever their age', () => {
    const images = [
      { key: 'a', lastUsedMs: 5 },
      { key: 'b', lastUsedMs: 4 },
      { key: 'c', lastUsedMs: 3 },
      { key: 'd', lastUsedMs: 2 },
      { key: 'e', lastUsedMs: 1 },
    ];
    expect(imagesToRemove(images, 'e', new Set(), 3).sort()).toEqual(['c', 'd']);
    expect(imagesToRemove(images, 'a', new Set(), 3).sort()).toEqual(['d', 'e']);
    expect(imagesToRemove(images, 'a', new Set(), 1).sort()).toEqual(['b', 'c', 'd', 'e']);
    expect(imagesToRemove(images.slice(0, 2), 'a', new Set(), 3)).toEqual([]);
  });

  it('never removes an image another process is building (its lock exists)', () => {
    const images = [
      { key: 'a', lastUsedMs: 3 },
      { key: 'b', lastUsedMs: 2 },
      { key: 'c', lastUsedMs: 1 },
    ];
    expect(imagesToRemove(images, 'a', new Set(['c']), 1)).toEqual(['b']);
  });

  it('removes the least recently used images from disk, and says what and how much', async () => {
    const images = scratchDir('fm-images-');
    await image(images, key('1'), 0);
    await image(images, key('2'), 1);
    await image(images, key('3'), 30);
    await image(images, key('4'), 2);
    const pruned = await pruneImages(images, key('3'), 3);
    // 3 is in use, however old; of the others, 1 and 2 were used last.
    expect(pruned.removed).toEqual([key('4').slice(0, 12)]);
    expect(pruned.bytes).toBeGreaterThanOrEqual(1000);
    expect(readdirSync(images).sort()).toEqual([key('1'), key('2'), key('3')]);
  });

  it('counts an image without a stamp as last used when its recipe was written', async () => {
    const images = scratchDir('fm-images-');
    await image(images, key('1'), 0);
    const old = join(images, key('2'));
    mkdirSync(old);
    writeFileSync(join(old, 'recipe.json'), '{}');
    utimesSync(join(old, 'recipe.json'), new Date(Date.now() - 9 * DAY), new Date(Date.now() - 9 * DAY));
    await image(images, key('3'), 5);
    expect((await pruneImages(images, key('1'), 2)).removed).toEqual([key('2').slice(0, 12)]);
  });

  it('removes what dead processes left half-built or half-removed, not what a live one is building, nor other files', async () => {
    const images = scratchDir('fm-images-');
    await image(images, key('1'), 0);
    const deadPid = 2 ** 22 + 1; // above Linux's pid_max
    mkdirSync(join(images, `${key('5')}.partial-${deadPid}`));
    mkdirSync(join(images, `${key('6')}.removing-${deadPid}`));
    mkdirSync(join(images, `${key('7')}.partial-${process.pid}`));
    writeFileSync(join(images, `${key('7')}.lock`), '');
    mkdirSync(join(images, 'debs'));
    const pruned = await pruneImages(images, key('1'), 3);
    expect(pruned.removed.sort()).toEqual([
      `${key('5').slice(0, 12)} (a build that did not finish)`,
      `${key('6').slice(0, 12)} (a removal that did not finish)`,
    ]);
    expect(existsSync(join(images, `${key('7')}.partial-${process.pid}`))).toBe(true);
    expect(existsSync(join(images, 'debs'))).toBe(true);
  });
});
