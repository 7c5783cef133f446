// A migration whose SSH connection to an edge was lost mid-phase still has
// to settle: rollback (or source cleanup) runs over a fresh connection. And
// before deciding anything, it lets whatever the failed step started on the
// edges end, as recover does after a controller crash: a CRIU dump goes on
// without its channel, or past its step's bound when stuck on a stopped NFS
// server, and deciding before it ends would catch the container half-dumped.
import { CommandError } from '../../common/errors.js';
import type { InventoryNode } from '../../common/inventory.js';
import type { Edge } from '../edge.js';
import { quiesce } from './recover.js';
import { cleanupSource, endLazyDump, rollback, type RollbackOutcome } from './rollback.js';
import type { SettleContext, Strategy } from './types.js';

export interface Reconnect {
  from: InventoryNode;
  to: InventoryNode;
  connect: (node: InventoryNode) => Promise<Edge>;
  /** Connections opened here, for the caller to close. */
  opened: Edge[];
}

/** How long a step the lost connection left running may take to end by itself: a dump's or restore's own bound, and some. */
const QUIET_WAIT_MS = 200_000;

/**
 * The context with a fresh connection in place of a lost one. An edge that
 * cannot be reached again keeps its lost connection: what needs it fails,
 * and says why.
 */
async function withLiveEdges<T extends SettleContext>(
  ctx: T,
  r: Reconnect,
  o: { quiesceAlways: boolean; beforeQuiesce?: (live: T) => Promise<string | undefined> },
): Promise<{ ctx: T; notes: string[] }> {
  const notes: string[] = [];
  const again = async (edge: Edge, node: InventoryNode): Promise<Edge> => {
    if (edge.ssh.lostReason === undefined) return edge;
    try {
      const fresh = await r.connect(node);
      r.opened.push(fresh);
      notes.push(`the SSH connection to ${edge.name} was lost (${edge.ssh.lostReason}) and opened again`);
      return fresh;
    } catch (e) {
      notes.push(`the SSH connection to ${edge.name} was lost (${edge.ssh.lostReason}) and could not be opened again: ${(e as Error).message.split('\n')[0]}`);
      return edge;
    }
  };
  const source = await again(ctx.source, r.from);
  const dest = await again(ctx.dest, r.to);
  const reconnected = source !== ctx.source || dest !== ctx.dest;
  const live = reconnected ? { ...ctx, source, dest } : ctx;
  // Before a rollback also with both connections intact: a step that timed out (a dump stuck on a stopped NFS server) may still run.
  // Only when both answer: an edge that stays unreachable keeps whatever runs there, and rollback says what it could not do.
  if (source.ssh.lostReason === undefined) {
    const did = await o.beforeQuiesce?.(live).catch((e: unknown) => `before settling: ${(e as Error).message.split('\n')[0]}`);
    if (did) notes.push(`${ctx.container} on ${source.name}: ${did}`);
  }
  if ((reconnected || o.quiesceAlways) && source.ssh.lostReason === undefined && dest.ssh.lostReason === undefined) {
    const report = { id: ctx.id, container: ctx.container, found: [] as string[], did: [] as string[], settled: false };
    try {
      await quiesce(live, QUIET_WAIT_MS, report, (list, line) => list.push(line));
    } catch (e) {
      // The destination went away meanwhile (a destroyed VM is found dead by the keepalive or by a command's bound,
      // whichever comes first): the source was quiesced first, so settling goes on there, and says what it could not
      // do on the destination.
      const destTimedOut = e instanceof CommandError && e.host === dest.name && e.timedOut;
      if (source.ssh.lostReason !== undefined || (dest.ssh.lostReason === undefined && !destTimedOut)) throw e;
      const why = dest.ssh.lostReason !== undefined ? `the SSH connection to it was lost (${dest.ssh.lostReason})` : (e as Error).message.split('\n')[0]!;
      notes.push(`${dest.name} did not answer while waiting for the migration's processes to end: ${why}`);
    }
    notes.push(...report.found, ...report.did);
  }
  return { ctx: live, notes };
}

const withNotes = (notes: string[], detail: string) => (notes.length ? `${notes.join('; ')}; ${detail}` : detail);

/** rollback(), over connections that work. */
export async function rollbackOverLiveConnections(ctx: SettleContext, strategy: Strategy, r: Reconnect): Promise<RollbackOutcome> {
  // A lazy dump serves its pages until a daemon takes them, which none will now: it is ended first, or the wait for the
  // migration's processes would wait it out.
  const { ctx: live, notes } = await withLiveEdges(ctx, r, {
    quiesceAlways: true,
    beforeQuiesce: (l) => endLazyDump(l, strategy),
  });
  const rb = await rollback(live, strategy);
  return { ...rb, detail: withNotes(notes, rb.detail) };
}

/** cleanupSource(), over connections that work; a reconnection is no warning, only what could not be removed is. */
export async function cleanupSourceOverLiveConnections(ctx: SettleContext, strategy: Strategy, r: Reconnect): Promise<string | undefined> {
  const { ctx: live } = await withLiveEdges(ctx, r, { quiesceAlways: false });
  return cleanupSource(live, strategy);
}
