import { ensureImage, recipeFor } from '../../provision/image/build.js';
import { loadStack, loadTopologyFile, stackConfigPath } from '../../provision/topology/stack-config.js';
import { recipeKey } from '../../provision/image/recipe.js';
import { log } from '../output.js';

export async function imageBuild(opts: { stack: string; config?: string }): Promise<void> {
  const topology = opts.config ? loadTopologyFile(opts.config) : loadStack(opts.stack);
  const recipe = recipeFor(topology);
  log(`image recipe ${recipeKey(recipe).slice(0, 12)} for ${opts.config ?? stackConfigPath(opts.stack)}`);
  const r = await ensureImage(recipe, log);
  log(`${r.cacheHit ? 'cache hit' : 'built'} in ${(r.durationMs / 1000).toFixed(1)} s: ${r.image.rootfs}`);
}
