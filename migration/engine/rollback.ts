// What happens when a phase fails, before the point of no return (the
// container running on the destination): the container ends up running on
// the source with its state, and the destination holds nothing of it. And
// what happens after a success: the source copy is removed.
import { command } from '../edge-command.js';
import { StateLostError } from '../../common/errors.js';
import { LXC_PATH, lxc } from '../lxc/commands.js';
import { hostLinkFor, preparedNetworkOf, type PreparedNetwork } from '../lxc/network.js';
import type { SettleContext, Strategy } from './types.js';
import { dropNetworkLock } from '../criu/network-lock.js';
import { hasLazyWindow, lazyPagesPort } from '../strategies/lazy-steps.js';
import { iterationDir } from './types.js';

export interface RollbackOutcome {
  outcome: 'rolled-back' | 'failed';
  detail: string;
  /** Rolled back, but something of the migration could not be removed (the destination unreachable, images held open): recover's. */
  left?: string;
  /** Failed for good: the container's in-memory state no longer exists anywhere (why). Nothing is left for recover. */
  stateLost?: string;
}

/** Removes the container and the migration's daemons from the destination (its images go with the storage's removeImages). */
async function cleanDestination(ctx: SettleContext, strategy: Strategy): Promise<void> {
  const { dest } = ctx;
  await stopRestoreOnDestination(ctx);
  if (ctx.receiver) await dest.stopReceiver(ctx.receiver);
  await dest.killPageServers(ctx.workDir);
  const state = await dest.state(ctx.container);
  if (state !== undefined && state !== 'STOPPED') await dest.exec(command('lxc-kill', lxc.kill(ctx.container)), { allowFailure: true });
  // Only ever the container's own directory: with a shared rootfs it holds the config alone.
  if (ctx.destTouched) await dest.removeUnder('remove-container-dir', LXC_PATH, ctx.lxcDir);
  if (strategy.criu?.network === 'prepared') await dest.forgetNetwork(ctx.container);
}

/**
 * The network namespace a restore on the source joins, when the strategy's
 * final dump left it out: built from the container's config there.
 */
async function sourceNetwork(ctx: SettleContext, strategy: Strategy): Promise<PreparedNetwork | undefined> {
  if (strategy.criu?.network !== 'prepared') return undefined;
  const config = (await ctx.source.readFile(`${ctx.lxcDir}/config`, 'read-config')).toString('utf8');
  return preparedNetworkOf(ctx.container, config, hostLinkFor(ctx.id, ctx.source.name));
}

/**
 * A restore that timed out may still be running and bring the container up
 * later, which would leave it running twice: kill it before deciding where
 * the container runs.
 */
async function stopRestoreOnDestination(ctx: SettleContext): Promise<void> {
  await ctx.dest.exec(command('kill-restore', lxc.killRestore(ctx.container, ctx.workDir)), { allowFailure: true });
}

/**
 * Before the restore ran anything, a lazy dump (post-copy) still holds the
 * source's tasks, frozen, with every page: its server is made to fail, so
 * CRIU resumes them. Returns what it did, if a dump was there.
 */
export async function endLazyDump(ctx: SettleContext, strategy: Strategy): Promise<string | undefined> {
  if (!hasLazyWindow(strategy.outline(0))) return undefined;
  await ctx.dest.killPageServers(ctx.workDir).catch(() => undefined);
  const how = await ctx.source.failLazyDump(iterationDir(ctx, 'dump'), lazyPagesPort(ctx.id));
  if (how === 'failed') return `its lazy dump made to fail, so CRIU resumed its tasks`;
  if (how === 'killed') return `its lazy dump killed (it did not end when its server failed)`;
  return undefined;
}

export async function rollback(ctx: SettleContext, strategy: Strategy): Promise<RollbackOutcome> {
  await stopRestoreOnDestination(ctx).catch(() => undefined);
  // A lazy dump was ended by the caller, before it waited for the migration's processes (endLazyDump).
  const sourceState = await ctx.source.state(ctx.container).catch(() => undefined);
  const notes: string[] = [];

  if (sourceState === 'RUNNING' || sourceState === 'FROZEN') {
    // The final dump did not happen or failed (CRIU thaws the tasks then).
    if (sourceState === 'FROZEN') await ctx.source.exec(command('lxc-unfreeze', ['lxc-unfreeze', '-n', ctx.container]));
    const raised = (await ctx.source.exec(command('links-up', lxc.linksUp(ctx.container)), { allowFailure: true })).stdout.trim().split('\n').filter(Boolean);
    if (raised.length) notes.push(`its link ${raised.join(', ')} brought up again: the final dump's hook had taken it down`);
    // A lazy dump's failure path resumes the tasks but leaves the network locked.
    const lock = hasLazyWindow(strategy.outline(0)) ? await dropNetworkLock(ctx.source, ctx.container) : undefined;
    if (lock) notes.push(`what CRIU left on its network undone: ${lock}`);
    return rolledBack(ctx, strategy, `container ${ctx.container} kept running on ${ctx.source.name}${notes.length ? ` (${notes.join('; ')})` : ''}`);
  }

  // The container runs nowhere (or only as a half-restored copy on the
  // destination): restore it on the source from the final dump's images.
  // The final dump's own images say whether it finished, even if a step after it failed.
  if (!(await ctx.source.exists(`${iterationDir(ctx, 'dump')}/inventory.img`))) {
    return {
      outcome: 'failed',
      detail: `container ${ctx.container} is ${sourceState ?? 'absent'} on ${ctx.source.name} and no final dump exists; images kept in ${ctx.workDir}`,
    };
  }
  const destState = await ctx.dest.state(ctx.container).catch(() => undefined);
  if (destState === 'RUNNING') {
    await ctx.dest.exec(command('lxc-kill', lxc.kill(ctx.container)), { allowFailure: true });
    notes.push(`stopped the copy on ${ctx.dest.name}`);
  }
  try {
    await strategy.storage.recoverImages(ctx, strategy.finalPagesOn);
    const network = await sourceNetwork(ctx, strategy);
    await ctx.source.restore(ctx.container, iterationDir(ctx, 'dump'), network);
    if (network) await ctx.source.forgetNetwork(ctx.container, { allowFailure: true });
  } catch (e) {
    if (e instanceof StateLostError) return withStateLost(ctx, strategy, e.message);
    // Keep every image: they are the container's only state now.
    return {
      outcome: 'failed',
      detail: `could not restore ${ctx.container} on ${ctx.source.name}: ${(e as Error).message}; images kept in ${strategy.storage.imagesWhere(ctx)}`,
    };
  }
  notes.push(`restored on ${ctx.source.name} from its final dump`);
  return rolledBack(ctx, strategy, `container ${ctx.container} running on ${ctx.source.name} again (${notes.join('; ')})`);
}

/**
 * Nothing can bring the container's state back: leave nothing half-done. The
 * container stays stopped on the source with its root file system, to be
 * started anew; the destination's copy and every image go.
 */
async function withStateLost(ctx: SettleContext, strategy: Strategy, why: string): Promise<RollbackOutcome> {
  const left: string[] = [];
  await cleanDestination(ctx, strategy).catch((e: unknown) => left.push(`${ctx.dest.name} could not be cleaned (${(e as Error).message.split('\n')[0]!})`));
  // The images only once the destination is clean: until then they are how a later recover knows the loss again.
  if (left.length === 0) {
    const imagesLeft = await strategy.storage.removeImages(ctx, ctx.source, [ctx.source, ctx.dest]);
    if (imagesLeft) left.push(imagesLeft);
  }
  const where = `${ctx.container} is stopped on ${ctx.source.name} with its root file system: start it anew to run it without that state`;
  if (left.length === 0) return { outcome: 'failed', stateLost: why, detail: `${why}; ${where}; ${ctx.dest.name} cleaned and the images removed` };
  return {
    outcome: 'failed',
    stateLost: why,
    detail: `${why}; ${where}; ${left.join('; ')}: \`followme recover\` removes what is left once it can`,
    left: left.join('; '),
  };
}

/** The container runs on the source again: safe whatever the destination does now. Cleans the destination, or says what it could not. */
async function rolledBack(ctx: SettleContext, strategy: Strategy, where: string): Promise<RollbackOutcome> {
  const destLeft = await cleanDestination(ctx, strategy).then(
    () => undefined,
    (e: unknown) => `${ctx.dest.name} could not be cleaned (${(e as Error).message.split('\n')[0]!})`,
  );
  const imagesLeft = await strategy.storage.removeImages(ctx, ctx.source, destLeft ? [ctx.source] : [ctx.source, ctx.dest]);
  const left = [imagesLeft, destLeft].filter((x): x is string => x !== undefined);
  if (left.length === 0) return { outcome: 'rolled-back', detail: `${where}; ${ctx.dest.name} cleaned` };
  return {
    outcome: 'rolled-back',
    detail: `${where}${destLeft ? '' : `; ${ctx.dest.name} cleaned`}; ${left.join('; ')}: \`followme recover\` removes what is left once it can`,
    left: left.join('; '),
  };
}

/**
 * The source's copy removed by its storage, once: a copy LXC no longer knows
 * is not removed again (recover finishing a cleanup that had got that far),
 * and a removal cut short leaves a directory LXC no longer knows: removed.
 */
export async function removeSourceCopy(ctx: SettleContext, strategy: Strategy): Promise<void> {
  const { source } = ctx;
  const destroyed =
    (await source.state(ctx.container)) === undefined ? undefined : await strategy.storage.removeSourceCopy(ctx).catch((e: unknown) => e as Error);
  if (!(await source.exists(ctx.lxcDir))) return;
  const r = await source.removeUnder('remove-container-dir', LXC_PATH, ctx.lxcDir, { allowFailure: true });
  if (r.exitCode !== 0)
    throw destroyed instanceof Error ? destroyed : new Error(`${source.name}: removing ${ctx.lxcDir} exited with ${r.exitCode}: ${r.stderr.trim()}`);
}

/**
 * After the point of no return: remove the stopped source copy and the
 * images, once the destination's copy is seen running. Errors here are
 * warnings; the migration has succeeded.
 */
export async function cleanupSource(ctx: SettleContext, strategy: Strategy): Promise<string | undefined> {
  const warnings: string[] = [];
  const step = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (e) {
      warnings.push(`${what}: ${(e as Error).message}`);
    }
  };
  // The source copy and the final dump are the container's last state until its restored copy is seen running: a
  // destination that went down after the restore (its VM destroyed) would otherwise take the container with it.
  const destState = await ctx.dest.state(ctx.container).then(
    (s) => s ?? 'absent',
    (e: unknown) => `unknown (${(e as Error).message.split('\n')[0]})`,
  );
  if (destState !== 'RUNNING')
    return `${ctx.container} is ${destState} on ${ctx.dest.name} after its restore: the source copy and the images are kept; \`followme recover\` settles it`;
  if (ctx.receiver) await step('stop rsync receiver', () => ctx.dest.stopReceiver(ctx.receiver!));
  if (strategy.criu?.network === 'prepared') await step('forget the prepared network', () => ctx.dest.forgetNetwork(ctx.container));
  await step('stop source copy', async () => {
    const s = await ctx.source.state(ctx.container);
    if (s !== undefined && s !== 'STOPPED') await ctx.source.exec(command('lxc-kill', lxc.kill(ctx.container)));
  });
  await step('remove source copy', () => removeSourceCopy(ctx, strategy));
  const imagesLeft = await strategy.storage.removeImages(ctx, ctx.dest, [ctx.source, ctx.dest]);
  if (imagesLeft) warnings.push(`remove images: ${imagesLeft}`);
  return warnings.length ? warnings.join('; ') : undefined;
}
