// followme image build: the guest image of a stack, from the cache or built.
import { ensureImage, recipeFor } from '../../provision/image/build.js';
import { recipeKey } from '../../provision/image/recipe.js';
import { log } from '../output.js';
import type { ImageBuildFlags } from '../program.js';
import { loadTopology } from './testbed.js';

export async function imageBuild(flags: ImageBuildFlags): Promise<void> {
  const { topology, source } = loadTopology(flags);
  const recipe = recipeFor(topology);
  log(`image recipe ${recipeKey(recipe).slice(0, 12)} for ${source}`);
  const r = await ensureImage(recipe, log);
  log(`${r.cacheHit ? 'cache hit' : 'built'} in ${(r.durationMs / 1000).toFixed(1)} s: ${r.image.rootfs}`);
}
