// Every strategy once (or R times) on one testbed with the blank container:
// what `followme demo` and `npm run bench -- engine` run. The count is read
// before and after each move, so a result table never hides a restarted
// container.
import type { Inventory, InventoryNode } from '../common/inventory.js';
import { FollowmeError } from '../common/errors.js';
import { sshTarget } from '../common/ssh/target.js';
import { SshConnection } from '../common/ssh/transport.js';
import { deployContainer, removeContainer, type SharedStorage } from '../migration/container.js';
import { edges, withShare } from './containers.js';
import { migrate } from '../migration/engine/migrate.js';
import { registeredStrategies } from '../migration/strategies/index.js';
import type { EventListener } from '../migration/engine/types.js';
import type { MigrationRecord, StrategyName } from '../migration/record/schema.js';
import { readCount } from '../workloads/blank.js';
import { eventually } from '../workloads/http.js';

const readCountEventually = (ip: string) => eventually(() => readCount(ip));

export const LOCAL_CONTAINER = 'blank';
export const SHARED_CONTAINER = 'blank-nfs';

/** One migration of a container to the other edge, wherever it runs then. */
export interface Move {
  strategy: StrategyName;
  container: string;
}

/** Every registered strategy in the registry's order (those on shared storage only with an NFS share), `repetitions` times. */
export function showcaseMoves(inv: Inventory, repetitions = 1): Move[] {
  const moves: Move[] = [];
  for (let i = 0; i < repetitions; i++) {
    for (const s of registeredStrategies()) {
      if (s.storage.needsShare && !inv.nfs) continue;
      moves.push({ strategy: s.name, container: s.storage.needsShare ? SHARED_CONTAINER : LOCAL_CONTAINER });
    }
  }
  return moves;
}

/** The testbed's first two edges, whatever they are called. */
function edgePair(inv: Inventory): [InventoryNode, InventoryNode] {
  const [a, b] = edges(inv);
  if (!a || !b) throw new FollowmeError(`testbed ${inv.prefix} has fewer than two edges`);
  return [a, b];
}

function ipOf(inv: Inventory, container: string): string {
  const a = inv.containerAddresses[container === LOCAL_CONTAINER ? 0 : 1];
  if (!a) throw new FollowmeError(`testbed ${inv.prefix} has no container address for ${container}`);
  return a.ip;
}

/** The blank container on the first edge, and with an NFS share a second one whose rootfs lives on it. */
export async function deployShowcase(inv: Inventory, log: (l: string) => void): Promise<void> {
  const prefixLength = Number(inv.subnet.split('/')[1]);
  await withShare(inv, (shared) =>
    SshConnection.with(sshTarget(inv, edgePair(inv)[0]), async (c) => {
      const targets: [string, SharedStorage | undefined][] = [[LOCAL_CONTAINER, undefined]];
      if (shared) targets.push([SHARED_CONTAINER, shared]);
      for (const [name, share] of targets) {
        const addr = inv.containerAddresses[name === LOCAL_CONTAINER ? 0 : 1]!;
        log(`deploying ${name} on ${edgePair(inv)[0].name} at ${addr.ip}${share ? ` (rootfs on the NFS share)` : ''}`);
        await deployContainer(c, { name, ip: addr.ip, prefixLength, mac: addr.mac, bridge: 'br0' }, { template: 'blank' }, share ? { shared: share } : {});
      }
    }),
  );
}

export async function removeShowcase(inv: Inventory): Promise<void> {
  await withShare(inv, async (shared) => {
    for (const e of edges(inv)) {
      await SshConnection.with(sshTarget(inv, e), async (c) => {
        await removeContainer(c, LOCAL_CONTAINER);
        await removeContainer(c, SHARED_CONTAINER, shared ? { shared } : {});
      });
    }
  });
}

/**
 * Runs the moves in order, each from the edge the container runs on to the
 * other one (both start on the first edge). After each it checks that the count went
 * on (not restarted) at the same address. A migration that fails and is
 * rolled back is recorded and the run goes on (the container stays where it
 * was); anything worse stops the run.
 */
export async function runMoves(
  inv: Inventory,
  moves: Move[],
  o: { predumps?: number; log: (l: string) => void; onEvent?: EventListener; onRecord?: (r: MigrationRecord) => void },
): Promise<MigrationRecord[]> {
  const records: MigrationRecord[] = [];
  const where = new Map<string, string>();
  for (const m of moves) {
    const ip = ipOf(inv, m.container);
    const [a, b] = edgePair(inv);
    const from = where.get(m.container) ?? a.name;
    const to = from === a.name ? b.name : a.name;
    const before = await readCountEventually(ip);
    o.log(`${m.strategy}: ${m.container} ${from} → ${to} (count ${before})`);
    let r: MigrationRecord;
    try {
      r = await migrate({
        inventory: inv,
        ...m,
        from,
        to,
        ...(o.predumps !== undefined ? { predumps: o.predumps } : {}),
        ...(o.onEvent ? { onEvent: o.onEvent } : {}),
      });
    } catch (e) {
      const rec = (e as { record?: MigrationRecord }).record;
      if (!rec) throw e;
      o.onRecord?.(rec);
      records.push(rec);
      if (rec.outcome !== 'rolled-back') throw e;
      o.log(`${m.strategy}: failed in ${rec.error?.phase}, rolled back: ${m.container} still runs on ${from}`);
      continue;
    }
    o.onRecord?.(r);
    where.set(m.container, to);
    const after = await readCountEventually(ip);
    if (after < before) throw new FollowmeError(`${m.container} counts ${after} after the move, less than ${before} before: it restarted instead of resuming`);
    o.log(`${m.strategy}: done, downtime ${r.downtimeMs!.toFixed(0)} ms, total ${(r.totalMs / 1000).toFixed(2)} s, count ${before} → ${after} at ${ip}`);
    records.push(r);
  }
  return records;
}
