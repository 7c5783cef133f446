// A post-copy move's lazy window: what its record says of it, and the move
// settled when it failed there. A failure in the window: the container ran on the
// destination with part of its memory still on the source, and that part
// cannot arrive now. Nothing can bring the state back, and no copy may run
// with holes in its memory (a page the daemon never brings would read as
// zeros once the daemon is gone) or run twice: the destination's copy is
// stopped, with its root file system, the newest; the source's copy and every
// image go. What could not be reached stays in the journal for recover.
import { command } from '../edge-command.js';
import { type ContainerState, LXC_PATH, lxc } from '../lxc/commands.js';
import { STEP_TIMEOUT_MS } from '../edge.js';
import { lazyPagesPort } from '../strategies/lazy-steps.js';
import type { LazyRecord, MigrationRecord } from '../record/schema.js';
import { lazyDumpEndMs } from './downtime.js';
import { removeSourceCopy } from './rollback.js';
import { iterationDir, type MigrationContext, type SettleContext, type Strategy } from './types.js';

export interface LazyWindowSettled {
  detail: string;
  /** Where the container is kept, stopped, with its root file system. */
  keptOn?: 'source' | 'dest';
  /** What could not be removed (an edge unreachable): recover's. */
  left?: string;
}

/**
 * Which copy to keep, stopped, when no earlier settling chose: the
 * destination's, unless it no longer runs while the source's tasks still do
 * (frozen by the dump, or resumed by CRIU's failure path): a destination that
 * died took its memory and, with a power cut, its root file system's unsynced
 * writes (a kept copy failed to exec its init with EIO), while the source's
 * root file system is whole.
 */
export function copyToKeep(states: { source: ContainerState | undefined; dest: ContainerState | undefined }): 'source' | 'dest' {
  if (states.dest === 'RUNNING') return 'dest';
  return states.source === 'RUNNING' || states.source === 'FROZEN' ? 'source' : 'dest';
}

/** copyToKeep from the copies' states as they are now (unreadable counts as absent). */
async function copyToKeepNow(ctx: SettleContext): Promise<'source' | 'dest'> {
  const [source, dest] = await Promise.all([ctx.source, ctx.dest].map((e) => e.state(ctx.container).catch(() => undefined)));
  return copyToKeep({ source, dest });
}

export async function settleLostLazyWindow(ctx: SettleContext, strategy: Strategy, keepOn?: 'source' | 'dest'): Promise<LazyWindowSettled> {
  const left: string[] = [];
  const did: string[] = [];
  const step = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (e) {
      left.push(`${what}: ${(e as Error).message.split('\n')[0]}`);
    }
  };
  const keptOn = keepOn ?? (await copyToKeepNow(ctx));
  const kept = keptOn === 'dest' ? ctx.dest : ctx.source;
  const other = keptOn === 'dest' ? ctx.source : ctx.dest;
  // Whichever is kept: the source's dump may still hold its tasks (frozen, or resumed by CRIU's failure path), the
  // destination's daemon may still run, and neither copy may run again.
  await step(`stop the copy on ${ctx.source.name}`, async () => {
    await ctx.source.failLazyDump(iterationDir(ctx, 'dump'), lazyPagesPort(ctx.id));
    const s = await ctx.source.state(ctx.container);
    if (s !== undefined && s !== 'STOPPED') await ctx.source.exec(command('lxc-kill', lxc.kill(ctx.container)));
  });
  await step(`stop the copy on ${ctx.dest.name}`, async () => {
    await ctx.dest.killPageServers(ctx.workDir);
    const s = await ctx.dest.state(ctx.container);
    if (s !== undefined && s !== 'STOPPED') await ctx.dest.exec(command('lxc-kill', lxc.kill(ctx.container)));
    if (ctx.receiver) await ctx.dest.stopReceiver(ctx.receiver);
    if (strategy.criu?.network === 'prepared') await ctx.dest.forgetNetwork(ctx.container, { allowFailure: true });
  });
  if (left.length === 0) did.push(`both copies stopped`);
  await step(`remove the copy on ${other.name}`, async () => {
    // The destination's as rollback removes it: its own directory only (with a shared rootfs it holds the config alone).
    if (other === ctx.dest) await ctx.dest.removeUnder('remove-container-dir', LXC_PATH, ctx.lxcDir);
    else await removeSourceCopy(ctx, strategy);
    did.push(`the copy on ${other.name} removed`);
  });
  if (left.length === 0) {
    const imagesLeft = await strategy.storage.removeImages(ctx, ctx.dest, [ctx.source, ctx.dest]);
    if (imagesLeft) left.push(imagesLeft);
    else did.push('the images removed');
  }
  const where = `${ctx.container} is stopped on ${kept.name} with its root file system: start it anew to run it without that state`;
  const detail = `${where}; ${did.join('; ')}`;
  if (left.length === 0) return { detail, keptOn };
  return { detail: `${detail}; ${left.join('; ')}: \`followme recover\` removes what is left once it can`, left: left.join('; '), keptOn };
}

/** What a record or a recovery says of a lost lazy window. */
export function lazyStateLost(ctx: Pick<SettleContext, 'source' | 'dest'>, notArrived: number | undefined, why: string): string {
  const pages = notArrived !== undefined ? `${notArrived} pages` : 'part of its memory';
  return `the container ran on ${ctx.dest.name} with ${pages} still on ${ctx.source.name}, and they cannot arrive now (post-copy's lazy window): ${why}`;
}

/**
 * After a controller died past a lazy restore, once the source's dump has
 * ended (recover's quiesce waits for it): why the destination's copy is not
 * whole, or undefined when it is. Whole: the source's dump wrote its
 * statistics, which CRIU does only once every page was served; or, failing
 * that, the destination daemon's log shows every page copied and no error
 * (its count alone can fall short on a healthy move: pages the container
 * unmapped meanwhile are dropped). A copy that no longer runs, or whose
 * pages cannot be accounted for, counts as lost: a copy with holes must not
 * run, nor the source's older one again.
 */
export async function lazyWindowLoss(ctx: SettleContext, runningOnDest: boolean): Promise<string | undefined> {
  if (!runningOnDest) return lazyStateLost(ctx, undefined, `${ctx.container} no longer runs on ${ctx.dest.name}`);
  const imagesDir = iterationDir(ctx, 'dump');
  const served = await ctx.source.waitLazyDump(imagesDir, STEP_TIMEOUT_MS.quick).catch(() => undefined);
  if (served?.ok) return undefined;
  const log = await ctx.dest.lazyPagesProgress(imagesDir).catch((e: unknown) => e as Error);
  const unserved = `the lazy dump on ${ctx.source.name} ended without serving every page (no statistics)`;
  if (log instanceof Error) return lazyStateLost(ctx, undefined, `${unserved}, and the daemon's log cannot be read: ${log.message.split('\n')[0]}`);
  const missing = Math.max(0, log.count.pagesLazy - log.count.pagesCopied);
  if (missing > 0 || log.errors > 0)
    return lazyStateLost(ctx, missing, `${unserved}: ${missing} of ${log.count.pagesLazy} lazy pages never arrived (${log.errors} errors in the daemon's log)`);
  return undefined;
}

/** The end of the restore (the container running on the destination), as an offset; `fallback` for a strategy without one. */
export function restoredAtMs(phases: readonly MigrationRecord['phases'][number][], fallback: number): number {
  const r = phases.find((p) => p.kind === 'restore');
  return r ? r.startMs + r.durationMs : fallback;
}

/** The record's `lazy`, for a move that made a lazy dump. */
export function lazyRecordOf(
  ctx: MigrationContext,
  phases: MigrationRecord['phases'],
  iterations: MigrationRecord['iterations'],
  finished: boolean,
): LazyRecord | undefined {
  const lazy = ctx.lazy;
  if (!lazy || !phases.some((p) => p.kind === 'restore')) return undefined;
  const restoredAt = restoredAtMs(phases, 0);
  const lazyPhase = phases.find((p) => p.kind === 'lazy-pages');
  const lastPageAt = lazy.dumpRanMs !== undefined ? lazyDumpEndMs(phases, lazy.dumpRanMs) : undefined;
  const windowEnd = lastPageAt ?? (lazyPhase ? lazyPhase.startMs + lazyPhase.durationMs : undefined);
  const before = iterations.length ? iterations.reduce((n, i) => n + i.stats.pagesWritten, 0) : undefined;
  const count = lazy.count ?? { pagesLazy: 0, pagesCopied: 0, faults: 0 };
  return {
    restoredAtMs: restoredAt,
    ...(finished && windowEnd !== undefined ? { lastPageAtMs: Math.max(restoredAt, windowEnd), windowMs: Math.max(0, windowEnd - restoredAt) } : {}),
    ...(before !== undefined ? { pagesBeforeRestore: before } : {}),
    pagesLazy: count.pagesLazy,
    pagesSentLazily: count.pagesCopied,
    faults: count.faults,
    ...(lazy.sourceWarning || lazy.reopened ? { warning: [lazy.sourceWarning, ...(lazy.reopened ?? [])].filter(Boolean).join('; ') } : {}),
  };
}
