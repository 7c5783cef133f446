// Phases more than one strategy uses, built over the Edge verbs.
import { command } from '../edge-command.js';
import { iterationDir, iterationName, parentOf, preDumpsDone, type MigrationContext, type Phase } from '../engine/types.js';
import { FollowmeError } from '../../common/errors.js';
import type { Edge } from '../edge.js';
import { postDumpHookPath } from '../criu/post-dump-hook.js';

function receiver(ctx: MigrationContext) {
  if (!ctx.receiver) throw new FollowmeError('no rsync receiver on the destination (set-up did not start one)');
  return ctx.receiver;
}

/** Where the source notes when the first rootfs copy began: the final sync sends only what changed after it. */
export const rootfsMarkerPath = (ctx: Pick<MigrationContext, 'workDir'>) => `${ctx.workDir}/rootfs-copy.mark`;

/**
 * Γ: the container's directory (config and rootfs) copied while it runs.
 * `markChanges` first notes the time on the source, for a final sync of the
 * changes alone (imagesCopy's `rootfs: 'changed'`).
 */
export function rootfsCopy(opts: { markChanges?: boolean } = {}): Phase {
  return {
    name: 'rootfs copy',
    kind: 'rootfs-copy',
    async run(ctx) {
      ctx.destTouched = true;
      if (opts.markChanges) await ctx.source.exec(command('mark-rootfs', ['touch', rootfsMarkerPath(ctx)]));
      const onProgress = (p: { percent: number; rate: string }) => void ctx.emit({ type: 'progress', phase: 'rootfs copy', ...p });
      return { bytes: await ctx.source.push('rsync-rootfs', 'rsync rootfs', ctx.lxcDir, receiver(ctx), { module: 'container' }, { live: true, onProgress }) };
    },
  };
}

/**
 * Copies one iteration's images to the same path on the destination; the
 * final one also syncs the rootfs: all of it again after the images
 * (`mirror`, the paper's way), or only what changed since the first copy
 * began (`changed`: nothing at all when nothing did), at the same time as
 * the images; or not at all (`none`: the rootfs is on the share).
 */
export function imagesCopy(iteration: number | 'dump', opts: { rootfs?: 'mirror' | 'changed' | 'none' } = {}): Phase {
  const dump = iteration === 'dump';
  return {
    name: dump ? 'final copy' : `pre-dump ${iteration} copy`,
    kind: dump ? 'final-copy' : 'pre-dump-copy',
    ...(dump ? {} : { iteration }),
    async run(ctx) {
      const dir = iterationDir(ctx, iteration);
      const name = iterationName(iteration);
      if (dump && opts.rootfs === 'changed') {
        const list = `${ctx.workDir}/rootfs-changed.list`;
        return { bytes: await ctx.source.pushFinal({ imagesDir: dir, name, lxcDir: ctx.lxcDir, marker: rootfsMarkerPath(ctx), list }, receiver(ctx)) };
      }
      let bytes = await ctx.source.push('rsync-images', `rsync images ${name}`, dir, receiver(ctx), { module: 'work', subpath: name });
      // The last rootfs sync: what the container wrote since the first copy (none when the rootfs is on the share).
      if (dump && opts.rootfs !== 'none')
        bytes += await ctx.source.push('rsync-rootfs-final', 'rsync rootfs (final sync)', ctx.lxcDir, receiver(ctx), { module: 'container' }, { mirror: true });
      return { bytes };
    },
  };
}

/** Empties an iteration's image directory (keeping it) before a second attempt. */
export async function freshDir(edge: Edge, dir: string): Promise<void> {
  await edge.exec(command('empty-images-dir', ['sh', '-c', 'rm -rf "$0" && mkdir -p "$0"', dir]));
}

/**
 * A CRIU dump that fails leaves the container running (CRIU thaws it): on a
 * loaded TCG host the cgroup freeze can time out now and then. Such a dump
 * gets one more attempt, on a clean directory, and only if the container
 * still runs; the failed attempt stays in the phase's commands with its exit
 * code. A second failure goes to rollback. The second attempt dumps all
 * memory, without the parent link: the failed one may already have reset
 * the soft-dirty bits that say which pages changed since the parent.
 */
export async function withOneRetry(
  ctx: MigrationContext,
  what: string,
  attempt: (withParent: boolean) => Promise<void>,
  reset: () => Promise<void>,
): Promise<void> {
  try {
    await attempt(true);
  } catch (e) {
    if ((await ctx.source.state(ctx.container)) !== 'RUNNING') throw e;
    await ctx.emit({ type: 'retry', phase: what, error: (e as Error).message });
    await reset();
    await attempt(false);
  }
}

// The engine reads each dump's statistics: after the phases, or right after a
// pre-dump for a strategy that measures its rounds.
export function recordDump(ctx: MigrationContext, iteration: number | 'dump'): void {
  ctx.dumps.push({
    iteration: iteration === 'dump' ? preDumpsDone(ctx) + 1 : iteration,
    kind: iteration === 'dump' ? 'dump' : 'pre-dump',
    imagesDir: iterationDir(ctx, iteration),
  });
}

/**
 * γᵢ or the final dump, written to the iteration's directory (tmpfs on the
 * source, or the share). Each tracks memory against the one before.
 */
export function localDump(iteration: number | 'dump', opts: { onShare?: boolean } = {}): Phase {
  const dump = iteration === 'dump';
  return {
    name: dump ? 'final dump' : `pre-dump ${iteration}`,
    kind: dump ? 'final-dump' : 'pre-dump',
    ...(dump ? {} : { iteration }),
    ...(opts.onShare ? { pagesLeaveSource: true } : {}),
    async run(ctx) {
      const imagesDir = iterationDir(ctx, iteration);
      const prev = parentOf(dump ? preDumpsDone(ctx) : iteration - 1);
      await withOneRetry(
        ctx,
        dump ? 'final dump' : `pre-dump ${iteration}`,
        (parent) => {
          const req = { container: ctx.proc, imagesDir, tuning: ctx.criu, ...(parent && prev ? { prevImagesDir: prev } : {}) };
          return dump ? ctx.source.dump({ ...req, actionScript: postDumpHookPath(ctx.workDir) }) : ctx.source.preDump(req);
        },
        () => freshDir(ctx.source, imagesDir),
      );
      recordDump(ctx, iteration);
      return {};
    },
  };
}

/**
 * A pre-dump to the source's tmpfs and its images copied to the same path on
 * the destination, as one round. For a lazy final dump after it (hybrid):
 * CRIU finds a page unchanged since the round only in a parent pagemap on
 * the source, which a round streamed to a page server does not leave; with
 * none, every page would wait for the lazy window.
 */
export function localPreDumpCopied(iteration: number): Phase {
  const dump = localDump(iteration);
  const copy = imagesCopy(iteration);
  return {
    name: `pre-dump ${iteration} (copied)`,
    kind: 'pre-dump',
    iteration,
    async run(ctx) {
      await dump.run(ctx);
      const copied = await copy.run(ctx);
      // The next dump reads only this round's pagemap on the source (to find unchanged pages); its pages are on the
      // destination now. Emptied, they leave the source's tmpfs one round's worth instead of every round's.
      await ctx.source.exec(
        command('drop-copied-pages', ['sh', '-c', 'for f in "$0"/pages-*.img; do [ -f "$f" ] && : > "$f"; done; exit 0', iterationDir(ctx, iteration)]),
      );
      return copied;
    },
  };
}

/**
 * A dump whose pages stream to a page server on the destination, started
 * for this iteration with a parent link to the previous one. The small
 * images stay on the source.
 */
export function pageServerDump(iteration: number | 'dump'): Phase {
  const dump = iteration === 'dump';
  return {
    name: dump ? 'final dump (page server)' : `pre-dump ${iteration} (page server)`,
    kind: dump ? 'final-dump' : 'pre-dump',
    ...(dump ? {} : { iteration }),
    pagesLeaveSource: true,
    usesPageServer: true,
    async run(ctx) {
      const imagesDir = iterationDir(ctx, iteration);
      const prev = parentOf(dump ? preDumpsDone(ctx) : iteration - 1);
      const pidFile = `${imagesDir}/page-server.pid`;
      ctx.destTouched = true;
      const attempt = async (parent: boolean) => {
        const link = parent && prev ? { prevImagesDir: prev } : {};
        const req = { container: ctx.proc, imagesDir, tuning: ctx.criu, pageServer: { address: ctx.dest.address, port: ctx.pageServerPort }, ...link };
        await ctx.dest.startPageServer({ imagesDir, port: ctx.pageServerPort, pidFile, ...link });
        await ctx.emit({ type: 'step', step: 'page-server-started', node: ctx.dest.name, iteration });
        await (dump ? ctx.source.dump({ ...req, actionScript: postDumpHookPath(ctx.workDir) }) : ctx.source.preDump(req));
        // The server writes its last pages after the dump hangs up.
        await ctx.dest.waitExited(pidFile);
      };
      const reset = async () => {
        await ctx.dest.killPidFile(pidFile);
        await freshDir(ctx.dest, imagesDir);
        await freshDir(ctx.source, imagesDir);
      };
      await withOneRetry(ctx, dump ? 'final dump' : `pre-dump ${iteration}`, attempt, reset);
      recordDump(ctx, iteration);
      return {};
    },
  };
}

/** Υ's second half: the container restored by LXC on the destination; it ends Ψ. */
export function restoreOnDestination(): Phase {
  return {
    name: 'restore',
    kind: 'restore',
    async run(ctx) {
      await ctx.dest.restore(ctx.container, iterationDir(ctx, 'dump'), ctx.network);
      return {};
    },
  };
}
