// Removing a migration's images, a few tries per edge: on the share a file
// the restored container holds open stays as .nfs… for a moment.
import { sleep } from '../../common/poll.js';
import type { Edge } from '../edge.js';

const IMAGE_REMOVAL_TRIES = 3;
const IMAGE_REMOVAL_PAUSE_MS = 2000;

/** Removes `workDir` (under `base`) from the first edge of `edges` that can; undefined when gone, else why not. */
export async function removeFromFirstThatCan(edges: readonly Edge[], base: string, workDir: string): Promise<string | undefined> {
  let why = 'no edge answers';
  for (const edge of edges) {
    for (let attempt = 1; attempt <= IMAGE_REMOVAL_TRIES; attempt++) {
      if (attempt > 1) await sleep(IMAGE_REMOVAL_PAUSE_MS);
      const r = await edge
        .removeUnder('remove-images', base, workDir, { allowFailure: true })
        .catch((e: unknown) => ({ exitCode: -1, stderr: (e as Error).message }));
      if (r.exitCode === 0) return undefined;
      why = `${edge.name}: ${r.stderr.trim().split('\n')[0] ?? `exit ${r.exitCode}`}`;
    }
  }
  return `the images in ${workDir} could not be removed (${why})`;
}
