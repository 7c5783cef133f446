// followme follow: a trip plan's trips on a road testbed, each a trace
// replayed with one handover policy (and strategy) while the service probe
// and the workload's client play the user. Records go to DIR/trip.jsonl as
// they end; the same command again skips the finished trips and makes a
// trip cut short again. Uses the engine and the experiments' probe,
// containers and network profiles.
import { ConfigError, FollowmeError } from '../common/errors.js';
import type { Inventory } from '../common/inventory.js';
import { type Cell, servingCell } from '../common/road-cells.js';
import { containerFor, edges, ensureContainer, type ExperimentContainer, locate, removeContainers } from '../experiment/containers.js';
import { applyProfile, clearProfile } from '../experiment/network.js';
import { BUILTIN_PROFILES } from '../experiment/profiles.js';
import { dropTornTail } from '../experiment/results.js';
import { openResultsDir, recoverCutShort } from '../experiment/runner.js';
import type { EventListener } from '../migration/engine/types.js';
import { registeredStrategies, strategyNamed } from '../migration/strategies/index.js';
import type { LatencyProfile } from './latency.js';
import { type TraceFacts, checkTripResumable, newTripManifest, readTripManifest, type TripManifest, writeTripManifest } from './trip-manifest.js';
import { NO_STRATEGY, type PlannedTrip, plannedTrips, type TripPlan } from './trip-plan.js';
import { type FinishedTrip, readTrips, TRIP_FILE, tripIntegrityNotes } from './trip-results.js';
import { runTrip } from './trip-run.js';
import type { Trip } from './trip.js';

/** The backhaul between the edges during a trip: the paper's link (the user's delay class goes under its root). */
const BACKHAUL = BUILTIN_PROFILES.find((p) => p.name === 'gigabit')!;

export interface LoadedTrace {
  trip: Trip;
  facts: TraceFacts;
}

export interface FollowOptions {
  plan: TripPlan;
  planFile: string;
  inventory: Inventory;
  cells: readonly Cell[];
  latency: LatencyProfile;
  /** Every trace of the plan, read and checked. */
  traces: ReadonlyMap<string, LoadedTrace>;
  out: string;
  stack?: string;
  log: (line: string) => void;
  onEvent?: EventListener;
}

/** What the plan needs of the testbed, checked before anything is made. */
export function checkTripPlanFitsTestbed(plan: TripPlan, inv: Inventory, cells: readonly Cell[]): void {
  const onShare = plan.strategies.filter((s) => strategyNamed(s).storage.needsShare);
  if (onShare.length && !inv.nfs)
    throw new ConfigError(`plan.strategies: ${onShare.join(', ')} need a testbed with an NFS server; testbed ${inv.prefix} has none`, 'strategies');
  const names = new Set(edges(inv).map((e) => e.name));
  const missing = cells.filter((c) => !names.has(c.edge)).map((c) => c.edge);
  if (missing.length)
    throw new ConfigError(
      `testbed ${inv.prefix} has no edge ${missing.join(', ')} of the road's cells; use the inventory of the stack the road is from`,
      'inventory',
    );
  const need = new Set(plannedTrips(plan).map((t) => strategyNamed(containerStrategy(plan, t)).storage.needsShare)).size;
  if (inv.containerAddresses.length < need)
    throw new ConfigError(`testbed ${inv.prefix} has ${inv.containerAddresses.length} container addresses; this plan needs ${need}`, 'inventory');
}

/** The strategy whose container a trip uses: its own, or for a policy that never moves, the plan's first on local storage. */
function containerStrategy(plan: TripPlan, t: PlannedTrip): string {
  if (t.strategy !== NO_STRATEGY) return t.strategy;
  const local = (s: { storage: { needsShare: boolean } }) => !s.storage.needsShare;
  return plan.strategies.find((s) => local(strategyNamed(s))) ?? registeredStrategies().find(local)!.name;
}

const tripContainer = (plan: TripPlan, t: PlannedTrip, inv: Inventory): ExperimentContainer =>
  containerFor(plan.workload.name, containerStrategy(plan, t), inv);

/** What a strategy's moves took (wall s) in the trips already made: the lead time's estimate, or the plan's first guess. */
function measuredMigrationS(trips: readonly FinishedTrip[], strategy: string, guess: number): number {
  const took = trips
    .filter((t) => t.trip.strategy === strategy)
    .flatMap((t) => t.handovers.filter((h) => h.outcome === 'migrated').map((h) => (h.endT - h.startT) / t.trip.speedup));
  return took.length ? took.reduce((a, b) => a + b, 0) / took.length : guess;
}

export async function runFollow(o: FollowOptions): Promise<{ manifest: TripManifest; trips: FinishedTrip[]; ranNow: number }> {
  const { plan, inventory: inv } = o;
  checkTripPlanFitsTestbed(plan, inv, o.cells);
  const traces = Object.fromEntries([...o.traces].map(([name, t]) => [name, t.facts]));
  const existing = readTripManifest(o.out);
  if (existing) checkTripResumable(existing, { plan, traces }, inv, 'out');
  const release = await openResultsDir(o.out, 'trip run');
  try {
    const manifest =
      existing ??
      (await newTripManifest({
        plan,
        planFile: o.planFile,
        inventory: inv,
        cells: o.cells,
        latency: o.latency,
        traces,
        ...(o.stack ? { stack: o.stack } : {}),
      }));
    writeTripManifest(o.out, manifest);
    const planned = plannedTrips(plan);
    const before = readTrips(o.out, { flag: 'out', planned: new Set(planned.map((t) => t.key)) });
    for (const note of tripIntegrityNotes(before)) o.log(`${o.out}/trip.jsonl: ${note}`);
    if (before.tornTail) dropTornTail(o.out, before.wholeBytes, TRIP_FILE);
    const done = new Set(before.trips.map((t) => t.trip.key));
    const todo = planned.filter((t) => !done.has(t.key));
    if (done.size) o.log(`resuming: ${done.size} of ${planned.length} trips already in ${o.out}/trip.jsonl are skipped`);
    await recoverCutShort(inv, o.log);
    const trips = [...before.trips];
    const used = new Map<string, ExperimentContainer>();
    const started = Date.now();
    let ranNow = 0;
    try {
      for (const t of todo) {
        const eta = ranNow ? `, about ${Math.round((((Date.now() - started) / ranNow) * (todo.length - ranNow)) / 60_000)} min left` : '';
        o.log(`[${trips.length + 1}/${planned.length}] trip ${t.key}${eta}`);
        const trip = o.traces.get(t.trace)!.trip;
        const c = tripContainer(plan, t, inv);
        used.set(c.name, c);
        const startEdge = servingCell(o.cells, trip.points[0]!)?.edge ?? o.cells[0]!.edge;
        await placeContainer(inv, c, plan, startEdge, o.log);
        await applyProfile(inv, BACKHAUL);
        const r = await runTrip({
          inventory: inv,
          plan,
          planned: t,
          trip,
          cells: o.cells,
          latency: o.latency,
          container: c,
          startEdge,
          migrationWallS: measuredMigrationS(trips, t.strategy, plan.firstGuessS),
          out: o.out,
          log: o.log,
          ...(o.onEvent ? { onEvent: o.onEvent } : {}),
        });
        trips.push({ trip: r.record, windows: [], handovers: r.handovers });
        ranNow++;
        await recoverCutShort(inv, o.log);
        o.log(tripSummary(r.record, r.handovers));
        if (r.record.outcome === 'failed' && r.handovers.some((h) => h.outcome === 'failed'))
          throw new FollowmeError(
            `trip ${t.key}: a move failed and its rollback did not restore the container; the trip run stops (${r.record.error ?? ''}). ` +
              '`followme recover --inventory FILE` puts the container back in one place; then the same command resumes',
          );
      }
      await removeContainers(inv, [...used.values()]);
    } finally {
      await clearProfile(inv).catch((e: unknown) => o.log(`removing the emulated latency: ${(e as Error).message}`));
    }
    return { manifest, trips, ranNow };
  } finally {
    await release();
  }
}

/** The container running on the trip's first cell's edge: deployed there, or deployed again when an earlier trip left it elsewhere. */
async function placeContainer(inv: Inventory, c: ExperimentContainer, plan: TripPlan, edge: string, log: (line: string) => void): Promise<void> {
  const where = await locate(inv, c.name);
  if (where && where !== edge) {
    log(`${c.name}: on ${where}, and the trip starts in ${edge}'s cell: deployed again there`);
    await removeContainers(inv, [c]);
  }
  await ensureContainer(inv, c, plan.workload.params, log, edge);
}

function tripSummary(t: FinishedTrip['trip'], handovers: FinishedTrip['handovers']): string {
  const moved = handovers.filter((h) => h.outcome === 'migrated').length;
  const parts = [`trip ${t.key}: ${t.outcome}, ${moved} of ${handovers.length} handovers migrated, service ends on ${t.endEdge}`];
  if (t.client) parts.push(`${t.client.kind}: ${t.client.connections} connection(s), longest stall ${t.client.longestStallMs.toFixed(0)} ms`);
  if (t.state.problem) parts.push(`STATE: ${t.state.problem}`);
  if (t.error) parts.push(`error: ${t.error}`);
  return parts.join('; ');
}
