// diskless (paper III.B, pre-defined path): rsync the rootfs while the
// container runs; for every iteration a CRIU page server on the destination
// receives the pages (parent-linked to the previous iteration), so no page
// touches the source's disk; the remaining small images and a last rootfs
// sync are copied after the final dump; restore on the destination.
import { FollowmeError, StateLostError } from '../../common/errors.js';
import { iterationDir, type Phase, type Strategy } from '../engine/types.js';
import { underBase } from '../../common/input/remote-path.js';
import { receiverRunDir } from '../engine/setup.js';
import { imagesCopy, pageServerDump, restoreOnDestination, rootfsCopy } from './steps.js';
import { TMPFS_ROOT } from './tmpfs.js';

export const diskless: Strategy = {
  name: 'diskless',
  summary: 'rsync rootfs, pre-dumps and final dump streamed to a page server on the destination, restore',
  storage: 'copied',
  pointOfNoReturn: 'restore',
  workBase: () => TMPFS_ROOT,
  workDir: (_inventory, id) => underBase(TMPFS_ROOT, id),
  phases(predumps) {
    const phases: Phase[] = [rootfsCopy()];
    for (let i = 1; i <= predumps; i++) phases.push(pageServerDump(i));
    phases.push(pageServerDump('dump'), imagesCopy('dump'), restoreOnDestination());
    return phases;
  },
  // The pages live on the destination: bring the whole image tree back so the
  // source can restore from it. A destination that went down since lost them
  // with its tmpfs, and with them the container's memory.
  async recoverImages(ctx) {
    const pages = iterationDir(ctx, 'dump');
    if (!(await ctx.dest.exists(pages)))
      throw new StateLostError(
        `${ctx.container}'s in-memory state is lost: its final dump's pages were only on ${ctx.dest.name}, in ${pages} (tmpfs), which no longer exists: ${ctx.dest.name} went down, or the directory was removed`,
      );
    const receiver = await ctx.source.startReceiver(
      { port: ctx.pageServerPort + 1, modules: { work: ctx.workDir }, runDir: receiverRunDir(ctx.id, '-back') },
      ctx.dest.address,
    );
    try {
      await ctx.dest.push('rsync images back', ctx.workDir, receiver, { module: 'work' });
    } catch (e) {
      throw new FollowmeError(`could not bring the page server's images back from ${ctx.dest.name}: ${(e as Error).message}`, { cause: e });
    } finally {
      await ctx.source.stopReceiver(receiver);
    }
  },
};
