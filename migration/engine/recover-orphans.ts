// The second half of recover: what a migration left on the edges that no
// journal entry names (a journal lost, or a migration from another
// controller). Removed when the container runs on exactly one edge (they are
// then only leftovers); kept and reported otherwise, as they may hold its state.
import { command } from '../edge-command.js';
import type { Inventory, InventoryNode } from '../../common/inventory.js';
import type { Edge } from '../edge.js';
import { literalPattern } from '../lxc/commands.js';
import { STORAGE_DRIVERS } from '../storage/index.js';
import { strategyNamed, strategyNames } from '../strategies/index.js';
import { noter, type RecoveryReport } from './recover.js';

/** `<time>-<strategy>-<container>-<hex>`, as migrationId makes them. */
/** The report of the scan itself, when it could not look everywhere: not settled, so recover exits 1. */
export const EDGE_SCAN_ID = 'scan of the edges for leftovers';

export const MIGRATION_ID = /^\d{8}T\d{6}Z-([a-z][a-z0-9]*)-([A-Za-z0-9_.-]+)-[0-9a-f]{6}$/;

/** The strategy and container of a migration id of a registered strategy; undefined for anything else. */
export function parseMigrationId(id: string): { strategy: string; container: string } | undefined {
  const m = MIGRATION_ID.exec(id);
  return m && strategyNames().includes(m[1]!) ? { strategy: m[1]!, container: m[2]! } : undefined;
}

interface Leftover {
  edge: Edge;
  what: 'work directory' | 'rsync daemon';
  path: string;
}

async function listLeftovers(inventory: Inventory, edges: Edge[], known: Set<string>): Promise<Map<string, Leftover[]>> {
  const found = new Map<string, Leftover[]>();
  const add = (id: string, item: Leftover) => {
    if (known.has(id) || !parseMigrationId(id)) return;
    found.set(id, [...(found.get(id) ?? []), item]);
  };
  const bases = [...new Set(STORAGE_DRIVERS.filter((d) => !d.needsShare || inventory.nfs).map((d) => d.workBase(inventory)))];
  for (const edge of edges) {
    for (const base of bases) {
      const r = await edge.exec(command('list-work-dirs', ['sh', '-c', '[ -d "$0" ] && ls -1 "$0"; exit 0', base]), { allowFailure: true });
      for (const name of r.stdout.split('\n').filter(Boolean)) add(name, { edge, what: 'work directory', path: `${base}/${name}` });
    }
    const runs = await edge.exec(command('list-receivers', ['sh', '-c', 'ls -1 /run | grep "^followme-rsyncd-"; exit 0']), { allowFailure: true });
    for (const name of runs.stdout.split('\n').filter(Boolean)) {
      add(name.replace(/^followme-rsyncd-/, '').replace(/-back$/, ''), { edge, what: 'rsync daemon', path: `/run/${name}` });
    }
  }
  return found;
}

export async function recoverOrphans(
  inventory: Inventory,
  connect: (n: InventoryNode) => Promise<Edge>,
  known: Set<string>,
  log: (line: string) => void,
): Promise<RecoveryReport[]> {
  const edges: Edge[] = [];
  try {
    for (const n of inventory.nodes.filter((x) => x.role === 'edge')) edges.push(await connect(n));
  } catch (err) {
    for (const e of edges) e.close();
    // Not "nothing left": an edge no one looked at may hold a migration's only copy of a container.
    const failed = inventory.nodes.filter((x) => x.role === 'edge')[edges.length]?.name ?? 'an edge';
    const problem = `could not reach ${failed} to look for what migrations left there: ${(err as Error).message.split('\n')[0]}`;
    log(`problem: ${problem}`);
    return [{ id: EDGE_SCAN_ID, container: '', found: [], did: [], settled: false, problem }];
  }
  try {
    const reports: RecoveryReport[] = [];
    for (const [id, items] of await listLeftovers(inventory, edges, known)) {
      const { strategy: strategyName, container } = parseMigrationId(id)!;
      const report: RecoveryReport = { id, container, found: [], did: [], settled: false };
      reports.push(report);
      const note = noter(report, log);
      log(`migration ${id}: not in the journal, but left on the edges`);
      for (const it of items) note(report.found, `${it.what} ${it.path} on ${it.edge.name}`);
      // A migration of another controller may be alive: anything still running under its id is left alone.
      const busy: string[] = [];
      for (const edge of edges) {
        const r = await edge.exec(command('find-migration-processes', ['pgrep', '-f', '--', literalPattern(id)]), { allowFailure: true });
        if (r.stdout.trim()) busy.push(edge.name);
      }
      if (busy.length) {
        report.problem = `processes of this migration still run on ${busy.join(' and ')}: it may be another controller's, in progress; left alone`;
        log(`  problem: ${report.problem}`);
        continue;
      }
      const running: string[] = [];
      for (const edge of edges) if ((await edge.state(container)) === 'RUNNING') running.push(edge.name);
      if (running.length !== 1) {
        report.problem = `${container} runs on ${running.length ? running.join(' and ') : 'no edge'}: its leftovers are kept, as they may hold its state`;
        log(`  problem: ${report.problem}`);
        continue;
      }
      const base = strategyNamed(strategyName).storage.workBase(inventory);
      for (const it of items) {
        if (it.what === 'rsync daemon') await it.edge.stopReceiver({ runDir: it.path });
        else await it.edge.removeUnder('remove-images', base, it.path);
        note(report.did, `removed ${it.path} on ${it.edge.name}`);
      }
      report.runningOn = running[0]!;
      report.settled = true;
    }
    return reports;
  } finally {
    for (const e of edges) e.close();
  }
}
