// The phases of a lazy (post-copy) move, built over the Edge verbs and
// criu/lazy.ts: the lazy final dump, the restore that hands the pages to a
// lazy-pages daemon, and the lazy window after it, until the last page has
// arrived. The container runs on the destination from the restore on; until
// the last page arrives its memory is split between the two edges.
import { FollowmeError } from '../../common/errors.js';
import { sleep } from '../../common/poll.js';
import { postDumpHookPath } from '../criu/post-dump-hook.js';
import { iterationDir, parentOf, preDumpsDone, type MigrationContext, type Phase } from '../engine/types.js';
import { portsFor } from '../engine/ports.js';
import { STEP_TIMEOUT_MS, type Edge } from '../edge.js';
import { freshDir, recordDump, withOneRetry } from './steps.js';

/** The lazy window's phase, by name (faults aim at it). */
export const LAZY_PAGES_PHASE = 'lazy pages';

/** Where the source serves its lazy pages: next to the migration's receiver port (odd, so no receiver's). */
export const lazyPagesPort = (id: string) => portsFor(id).receiver + 1;

/** No page arriving for this long, with the daemon still waiting, means the source is gone. */
export const LAZY_STALL_MS = 10_000;
/** How often the lazy window is looked at. */
const LAZY_POLL_MS = 250;

/**
 * A failure in the lazy window: the container ran on the destination with
 * part of its memory still on the source, and that part cannot arrive now.
 */
export class LazyWindowError extends FollowmeError {
  override name = 'LazyWindowError';
  constructor(
    message: string,
    /** Pages that were to come lazily and never did, where known. */
    readonly pagesNotArrived: number | undefined,
  ) {
    super(message);
  }
}

/**
 * The final dump, lazy: everything but the anonymous pages is written to the
 * source's tmpfs, then the frozen source serves those pages and the phase
 * ends. A parent link makes pages unchanged since the last pre-dump come
 * from the destination's copy of that pre-dump.
 */
export function lazyDump(): Phase {
  return {
    name: 'final dump (lazy)',
    kind: 'final-dump',
    async run(ctx) {
      const imagesDir = iterationDir(ctx, 'dump');
      const prev = parentOf(preDumpsDone(ctx));
      ctx.destTouched = true;
      ctx.lazy = {};
      const lazyPages = { address: ctx.source.address, port: lazyPagesPort(ctx.id) };
      await withOneRetry(
        ctx,
        'final dump',
        (parent) =>
          ctx.source.startLazyDump({
            container: ctx.proc,
            imagesDir,
            tuning: ctx.criu,
            lazyPages,
            actionScript: postDumpHookPath(ctx.workDir),
            ...(parent && prev ? { prevImagesDir: prev } : {}),
          }),
        () => freshDir(ctx.source, imagesDir),
      );
      recordDump(ctx, 'dump');
      return {};
    },
  };
}

/**
 * The restore, lazy: the destination's lazy-pages daemon started on the
 * copied images, then LXC's restore with `lazy-pages` in its CRIU config. It
 * ends with the container running on the destination: the point of no
 * return, after which the source must serve its pages to the end.
 */
export function lazyRestore(): Phase {
  return {
    name: 'restore (lazy)',
    kind: 'restore',
    async run(ctx) {
      const imagesDir = iterationDir(ctx, 'dump');
      await ctx.dest.startLazyPages({ imagesDir, source: ctx.source.address, port: lazyPagesPort(ctx.id) });
      await ctx.dest.restore(ctx.container, imagesDir, ctx.network, { lazy: true });
      return {};
    },
  };
}

/**
 * The lazy window: the container runs on the destination while the
 * daemon there fetches the pages it faults on and pushes the rest. It ends
 * when the daemon does; the source's dump then ends too, its tasks killed.
 * A daemon that gets no page for LAZY_STALL_MS, or ends with errors, loses
 * the container's state (LazyWindowError).
 */
export function lazyPagesPull(): Phase {
  return {
    name: LAZY_PAGES_PHASE,
    kind: 'lazy-pages',
    async run(ctx) {
      const imagesDir = iterationDir(ctx, 'dump');
      ctx.lazy ??= {};
      const lazy = ctx.lazy;
      let copied = -1;
      let lastChange = performance.now();
      for (;;) {
        const p = await overLiveConnection(ctx, 'dest', (e) => e.lazyPagesProgress(imagesDir));
        lazy.count = p.count;
        const missing = Math.max(0, p.count.pagesLazy - p.count.pagesCopied);
        if (!p.running) {
          if (p.errors > 0) throw new LazyWindowError(`${ctx.dest.name}: the lazy-pages daemon ended with errors (${p.errors} in its log)`, missing);
          break;
        }
        if (p.count.pagesCopied !== copied) {
          copied = p.count.pagesCopied;
          lastChange = performance.now();
        } else if (performance.now() - lastChange > LAZY_STALL_MS) {
          // Every page arrived and only the session's end hangs (the source gone after its last page): the copy is whole.
          if (missing === 0 && p.count.pagesLazy > 0) {
            await ctx.dest.killPageServers(ctx.workDir);
            lazy.sourceWarning = `${ctx.source.name} did not answer the end of the transfer after its last page: the daemon on ${ctx.dest.name} was stopped`;
            return { bytes: p.count.pagesCopied * 4096 };
          }
          throw new LazyWindowError(
            `no page arrived from ${ctx.source.name} for ${LAZY_STALL_MS / 1000} s: ${missing} of ${p.count.pagesLazy} lazy pages had not arrived`,
            missing,
          );
        }
        await sleep(LAZY_POLL_MS);
      }
      // Every page is on the destination: the source's dump ends by itself now.
      const done = await overLiveConnection(ctx, 'source', (e) => e.waitLazyDump(imagesDir, STEP_TIMEOUT_MS.quick));
      if (done.ranMs !== undefined) lazy.dumpRanMs = done.ranMs;
      if (!done.ok)
        lazy.sourceWarning = `${ctx.source.name}: the lazy dump ended without its statistics, which CRIU writes on success (dump.log in ${imagesDir})`;
      return { bytes: lazy.count?.pagesCopied !== undefined ? lazy.count.pagesCopied * 4096 : 0 };
    },
  };
}

/**
 * `read` on an edge, and once more over a new connection when the
 * controller's own one was lost: the edges go on without the controller, so
 * a dropped connection says nothing of the pages. An edge that cannot be
 * reached again fails the window (nothing can tell whether its copy is whole).
 */
async function overLiveConnection<T>(ctx: MigrationContext, edge: 'source' | 'dest', read: (e: Edge) => Promise<T>): Promise<T> {
  try {
    return await read(ctx[edge]);
  } catch (e) {
    const lost = ctx[edge].ssh.lostReason;
    if (lost === undefined) throw e;
    await ctx.reopen(edge);
    ctx.lazy ??= {};
    const lazy = ctx.lazy;
    lazy.reopened = [...(lazy.reopened ?? []), `the SSH connection to ${ctx[edge].name} was lost in the lazy window (${lost}) and opened again`];
    return read(ctx[edge]);
  }
}

/** Whether a strategy has a lazy window (a phase after the restore that brings the pages in). */
export const hasLazyWindow = (outline: readonly Pick<Phase, 'kind'>[]) => outline.some((p) => p.kind === 'lazy-pages');
