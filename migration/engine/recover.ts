// followme recover: after a controller crash (or a rollback that failed),
// brings each unfinished migration to exactly one running copy of its
// container, with its in-memory state, and removes what the migration left
// on the edges. The journal says what each migration is; the edges say where
// it got to. Idempotent: an entry is settled only once its container runs in
// one place, and running recover again finds nothing more to do.
import { command } from '../edge-command.js';
import { dropNetworkLock } from '../criu/network-lock.js';
import { copyToKeep, lazyWindowLoss, settleLostLazyWindow } from './lazy-window.js';
import { hasLazyWindow } from '../strategies/lazy-steps.js';
import { ConfigError, FollowmeError } from '../../common/errors.js';
import type { Inventory, InventoryNode } from '../../common/inventory.js';
import { NotYet, poll, PollTimeoutError } from '../../common/poll.js';
import { connectEdge, type Edge } from '../edge.js';
import {
  entryHeld,
  ENTRY_LOCK_STALE_MS,
  journalDirFor,
  NOTHING_MADE_STEPS,
  settle,
  SOURCE_CLEANUP_STEP,
  unfinishedMigrations,
  type JournalEntry,
} from '../journal.js';
import { LXC_PATH, literalPattern, lxc } from '../lxc/commands.js';
import { strategyNamed } from '../strategies/index.js';
import { cleanupSource, endLazyDump, rollback } from './rollback.js';
import { receiverRunDir } from './ports.js';
import { recoverOrphans } from './recover-orphans.js';
import type { SettleContext, Strategy } from './types.js';
import type { RsyncReceiver } from '../rsync/commands.js';

export interface RecoverOptions {
  inventory: Inventory;
  /** Only this migration; otherwise every unfinished one. */
  id?: string;
  journalDir?: string;
  connect?: (node: InventoryNode) => Promise<Edge>;
  log?: (line: string) => void;
  /** How long an in-flight CRIU or rsync step of a dead controller may take to end by itself before it is killed. */
  quietWaitMs?: number;
  /** The pause between tries to connect to an edge (tests shorten it). */
  connectPauseMs?: number;
}

const CONNECT_ATTEMPTS = 3;
const CONNECT_PAUSE_MS = 10_000;

/** Connects to an edge, trying again: a dead controller's rsync may still swamp a TCG guest past SSH's handshake bound. */
async function connectPatiently(connect: (node: InventoryNode) => Promise<Edge>, node: InventoryNode, pauseMs: number): Promise<Edge> {
  try {
    return (await poll(() => connect(node), { attempts: CONNECT_ATTEMPTS, intervalMs: pauseMs, timeoutMs: CONNECT_ATTEMPTS * (pauseMs + 60_000) })).value;
  } catch (e) {
    if (e instanceof PollTimeoutError) throw new FollowmeError(`${e.lastReason} (${e.attempts} tries)`, { cause: e });
    throw e;
  }
}

export interface RecoveryReport {
  id: string;
  container: string;
  /** What recover saw before acting. */
  found: string[];
  did: string[];
  /** The edge the container runs on now; undefined when it runs nowhere (the entry is kept, unless its state is lost). */
  runningOn?: string;
  /** Settled, but the container's in-memory state no longer exists anywhere (why): it is stopped on `stoppedOn`, to be started anew. */
  stateLost?: string;
  stoppedOn?: string;
  settled: boolean;
  /** Why the migration could not be settled; run recover again once it is dealt with. */
  problem?: string;
}

const DEFAULT_QUIET_WAIT_MS = 200_000; // a dump or restore step's own bound (STEP_TIMEOUT_MS) and then some

export async function recover(o: RecoverOptions): Promise<RecoveryReport[]> {
  const journalDir = o.journalDir ?? journalDirFor(o.inventory.prefix);
  const log = o.log ?? (() => undefined);
  const all = unfinishedMigrations(journalDir);
  const entries = o.id === undefined ? all : all.filter((e) => e.id === o.id);
  for (const e of entries) {
    if (e.testbed !== o.inventory.prefix) {
      throw new ConfigError(`--inventory: migration ${e.id} ran on testbed ${e.testbed}, but the inventory is testbed ${o.inventory.prefix}`, 'inventory');
    }
  }
  const reports: RecoveryReport[] = [];
  for (const e of entries) {
    log(
      `migration ${e.id}: ${e.container} ${e.from} → ${e.to} by ${e.strategy}, stopped at "${e.step}"${e.pointOfNoReturnPassed ? ' (past the point of no return)' : ''}`,
    );
    await waitUntilAbandoned(journalDir, e, log);
    const report = await recoverOne(e, o, log);
    if (report.settled) settle(journalDir, e.id);
    reports.push(report);
  }
  // Then the edges: what a migration left that no journal entry names (a journal lost, or from another controller).
  if (o.id === undefined) {
    const connect = o.connect ?? connectEdge;
    const patient = (n: InventoryNode) => connectPatiently(connect, n, o.connectPauseMs ?? CONNECT_PAUSE_MS);
    reports.push(...(await recoverOrphans(o.inventory, patient, new Set(all.map((e) => e.id)), log)));
  }
  return reports;
}

/** A migration whose controller is alive is not recover's: wait (bounded) for its lock to go stale. */
async function waitUntilAbandoned(journalDir: string, e: JournalEntry, log: (l: string) => void): Promise<void> {
  if (!entryHeld(journalDir, e.id)) return;
  log(`  its controller held it moments ago; waiting up to ${ENTRY_LOCK_STALE_MS / 1000} s for that to lapse`);
  try {
    await poll(
      async () => {
        if (entryHeld(journalDir, e.id)) throw new NotYet('held');
      },
      { timeoutMs: ENTRY_LOCK_STALE_MS + 5_000, intervalMs: 1_000 },
    );
  } catch (err) {
    if (!(err instanceof PollTimeoutError)) throw err;
    throw new FollowmeError(`migration ${e.id} is still running (its controller keeps its journal entry locked); recover only takes abandoned migrations`);
  }
}

/** Adds a line to a report's `found` or `did` list and prints it as it goes. */
export function noter(report: RecoveryReport, log: (l: string) => void): (list: string[], line: string) => void {
  return (list, line) => {
    list.push(line);
    log(`  ${list === report.found ? 'found' : 'did'}: ${line}`);
  };
}

async function recoverOne(e: JournalEntry, o: RecoverOptions, log: (l: string) => void): Promise<RecoveryReport> {
  const report: RecoveryReport = { id: e.id, container: e.container, found: [], did: [], settled: false };
  const note = noter(report, log);
  if (NOTHING_MADE_STEPS.includes(e.step)) {
    note(report.found, `it stopped at "${e.step}", before anything was made on an edge`);
    report.settled = true;
    return report;
  }
  const nodes = [e.from, e.to].map((name) => o.inventory.nodes.find((n) => n.name === name && n.role === 'edge'));
  if (!nodes[0] || !nodes[1]) {
    report.problem = `the inventory has no edge ${!nodes[0] ? e.from : e.to}`;
    return report;
  }
  const connect = o.connect ?? connectEdge;
  const opened: Edge[] = [];
  try {
    for (const n of [nodes[0], nodes[1]]) opened.push(await connectPatiently(connect, n, o.connectPauseMs ?? CONNECT_PAUSE_MS));
  } catch (err) {
    for (const edge of opened) edge.close();
    report.problem = `cannot reach an edge (${(err as Error).message}); run recover again once both ${e.from} and ${e.to} answer`;
    return report;
  }
  const [source, dest] = opened as [Edge, Edge];
  try {
    const strategy = strategyNamed(e.strategy);
    const ctx = settleContext(e, o.inventory, strategy, source, dest);
    // A lazy dump whose restore never ran waits for a daemon that will not come: end it, or the wait below waits it out.
    if (!e.pointOfNoReturnPassed && e.stateLost === undefined) {
      const ended = await endLazyDump(ctx, strategy).catch(() => undefined);
      if (ended) note(report.did, `${ctx.container} on ${source.name}: ${ended}`);
    }
    await quiesce(ctx, o.quietWaitMs ?? DEFAULT_QUIET_WAIT_MS, report, note);

    const sourceState = await source.state(e.container);
    const destState = await dest.state(e.container);
    note(report.found, `${e.container} is ${sourceState ?? 'absent'} on ${source.name} and ${destState ?? 'absent'} on ${dest.name}`);
    const onSource = sourceState === 'RUNNING' || sourceState === 'FROZEN';
    const onDest = destState === 'RUNNING';
    const keepDest = onDest && (!onSource || e.pointOfNoReturnPassed);
    // Past a lazy restore the copy on the destination is whole only if every page arrived.
    // Not once the window had ended (the journal then says source cleanup): the dump and the daemon's log may be gone with it.
    const lazyWindow = hasLazyWindow(strategy.outline(e.predumps)) && (keepDest || e.pointOfNoReturnPassed) && e.step !== SOURCE_CLEANUP_STEP;
    const stateLost = e.stateLost ?? (lazyWindow ? await lazyWindowLoss(ctx, onDest) : undefined);

    if (stateLost !== undefined) {
      // A post-copy move lost its lazy window: no copy may run again; the destination keeps the stopped container.
      if (e.stateLost === undefined) note(report.found, stateLost);
      // The copy an earlier settling chose (the journal says), else as the states found above say.
      const keepOn = e.stoppedOn === source.name ? 'source' : e.stoppedOn === dest.name ? 'dest' : copyToKeep({ source: sourceState, dest: destState });
      const settled = await settleLostLazyWindow(ctx, strategy, keepOn);
      note(report.did, settled.detail);
      Object.assign(report, { stateLost, stoppedOn: settled.keptOn === 'source' ? source.name : dest.name });
      if (settled.left) report.problem = settled.detail;
    } else if (keepDest) {
      // The restore finished: complete the migration.
      const warning = await cleanupSource(ctx, strategy);
      note(report.did, `kept the copy on ${dest.name} (the restore had finished) and removed the source's copy and the images`);
      if (warning) report.problem = `source cleanup: ${warning}`;
      report.runningOn = dest.name;
    } else {
      // Back to the source: thawed if frozen, restored from the final dump if it had stopped.
      const rb = await rollback(ctx, strategy);
      note(report.did, rb.detail);
      if (rb.outcome === 'rolled-back') report.runningOn = source.name;
      if (rb.stateLost) Object.assign(report, { stateLost: rb.stateLost, stoppedOn: source.name });
      if ((rb.outcome === 'failed' && !rb.stateLost) || rb.left) report.problem = rb.detail;
    }
    await sweep(ctx, strategy, report, note);
    if (report.runningOn) {
      const lock = await dropNetworkLock(report.runningOn === source.name ? source : dest, e.container);
      if (lock) note(report.did, `undid what CRIU left on ${e.container}'s network on ${report.runningOn}: ${lock}`);
    }
    report.settled = (report.runningOn !== undefined || report.stateLost !== undefined) && report.problem === undefined;
    return report;
  } catch (err) {
    report.problem = (err as Error).message;
    return report;
  } finally {
    source.close();
    dest.close();
  }
}

function settleContext(e: JournalEntry, inventory: Inventory, strategy: Strategy, source: Edge, dest: Edge): SettleContext {
  return {
    id: e.id,
    container: e.container,
    inventory,
    source,
    dest,
    lxcDir: e.lxcDir,
    workDir: e.workDir,
    pageServerPort: e.ports.pageServer,
    ...receiverOf(strategy, e, dest),
    // Set-up had begun (NOTHING_MADE_STEPS are settled before): the destination may hold the container's directory.
    destTouched: true,
  };
}

function receiverOf(strategy: Strategy, e: JournalEntry, dest: Edge): { receiver?: RsyncReceiver } {
  const receiver = strategy.storage.receiverOf(e, dest);
  return receiver ? { receiver } : {};
}

/** Processes of this migration on an edge, by what only they carry on their command line: its work directory or its ports. */
function migrationProcessPattern(ctx: SettleContext): string {
  const parts = [
    literalPattern(ctx.workDir),
    `:${ctx.receiver?.port ?? ctx.pageServerPort}/`,
    `:${ctx.pageServerPort + 1}/`,
    literalPattern(receiverRunDir(ctx.id)),
  ];
  return parts.join('|');
}

/**
 * A dead controller's last step may still run on an edge (a CRIU dump keeps
 * going without its SSH channel). Let it end by itself, within its own
 * bound, so the container is not caught half-dumped; then kill what remains.
 */
export async function quiesce(ctx: SettleContext, waitMs: number, report: RecoveryReport, note: (list: string[], line: string) => void): Promise<void> {
  // The pattern goes in the environment: on a script's own command line pgrep would find the script.
  // Daemons (rsync --daemon, criu page-server) never end by themselves: they are stopped below, not waited for.
  const env = ['env', `P=${migrationProcessPattern(ctx)}`];
  const steps = 'steps() { pgrep -a -f -- "$P" | grep -v -e " --daemon" -e "page-server"; }';
  const waitS = Math.ceil(waitMs / 1000);
  for (const edge of [ctx.source, ctx.dest]) {
    const listed = await edge.exec(command('find-migration-processes', [...env, 'sh', '-c', `${steps}; steps; exit 0`]), { allowFailure: true });
    const procs = listed.stdout.trim();
    if (!procs) continue;
    const names = [...new Set(procs.split('\n').map((l) => l.split(/\s+/)[1] ?? '?'))].join(', ');
    note(report.found, `still running on ${edge.name}: ${names}`);
    const waited = await edge.exec(
      command(
        'wait-migration-processes',
        [
          ...env,
          'sh',
          '-c',
          `${steps}; end=$(( $(date +%s) + $0 )); while steps >/dev/null; do [ "$(date +%s)" -ge "$end" ] && exit 1; sleep 1; done`,
          String(waitS),
        ],
        { timeoutMs: waitMs + 30_000 },
      ),
      { allowFailure: true },
    );
    if (waited.exitCode === 0) {
      note(report.did, `waited for them to end on ${edge.name}`);
    } else {
      await edge.exec(command('kill-migration-processes', [...env, 'sh', '-c', `${steps}; steps | awk '{print $1}' | xargs -r kill -9; exit 0`]), {
        allowFailure: true,
      });
      note(report.did, `killed them on ${edge.name} after ${waitS} s`);
    }
  }
  // Daemons that outlive their step: rsync receivers (the diskless rollback's one on the source too) and page servers.
  await ctx.dest.stopReceiver({ runDir: receiverRunDir(ctx.id) });
  await ctx.source.stopReceiver({ runDir: receiverRunDir(ctx.id, '-back') });
  await ctx.dest.killPageServers(ctx.workDir);
}

/** What may remain after the decision: the work directories, and the container's directory where it does not run. */
async function sweep(ctx: SettleContext, strategy: Strategy, report: RecoveryReport, note: (list: string[], line: string) => void): Promise<void> {
  if (!report.runningOn) return; // The images may be the container's only state: keep them.
  const idle = report.runningOn === ctx.source.name ? ctx.dest : ctx.source;
  const present: string[] = [];
  for (const edge of [ctx.source, ctx.dest]) if (await edge.exists(ctx.workDir)) present.push(edge.name);
  if (present.length) {
    const left = await strategy.storage.removeImages(ctx, idle === ctx.source ? ctx.dest : ctx.source, [ctx.source, ctx.dest]);
    if (left) throw new FollowmeError(left);
    note(report.did, `removed ${ctx.workDir} (${strategy.storage.name} storage) as seen from ${present.join(' and ')}`);
  }
  const state = await idle.state(ctx.container);
  if (state !== undefined && state !== 'STOPPED') await idle.exec(command('lxc-kill', lxc.kill(ctx.container)), { allowFailure: true });
  if (await idle.exists(ctx.lxcDir)) {
    await idle.removeUnder('remove-container-dir', LXC_PATH, ctx.lxcDir);
    note(report.did, `removed ${ctx.lxcDir} on ${idle.name}`);
  }
}
