// One trip on a testbed: the user's positions replayed in (compressed) real
// time, the emulated latency set on every edge as the user moves, the
// policy asked at each position, and its migrations made for real while the
// service probe and the workload's client run. A window record is written
// as each stretch between two positions ends, a handover record as each
// migration ends, the trip record last.
import { randomBytes } from 'node:crypto';
import { FollowmeError } from '../common/errors.js';
import type { Inventory } from '../common/inventory.js';
import { hostAddress, parseSubnet } from '../common/net.js';
import { type Cell, servingCell } from '../common/road-cells.js';
import { sshTarget } from '../common/ssh/target.js';
import { SshConnection } from '../common/ssh/transport.js';
import { type ExperimentContainer, edges } from '../experiment/containers.js';
import { uplink } from '../experiment/network.js';
import { type Probe, startProbe } from '../experiment/probe.js';
import type { EventListener } from '../migration/engine/types.js';
import { eventually } from '../workloads/http.js';
import { workloadNamed } from '../workloads/index.js';
import { stateProblem, type StateReading } from '../workloads/types.js';
import { type LatencyProfile, rttMs } from './latency.js';
import { HANDOVER_POLICIES } from './policies/registry.js';
import type { PlannedTrip, TripPlan } from './trip-plan.js';
import { appendTripLine, type HandoverRecord, type TripRecord } from './trip-results.js';
import { TripFollower } from './trip-follower.js';
import type { Trip, TripPoint } from './trip.js';
import { userLatency } from './user-latency.js';

/** Bounds past the trip's own length: the migration still running at its end, and the answers after. */
const AFTER_TRIP_MS = 30 * 60_000;

export interface TripRunOptions {
  inventory: Inventory;
  plan: TripPlan;
  planned: PlannedTrip;
  trip: Trip;
  cells: readonly Cell[];
  latency: LatencyProfile;
  container: ExperimentContainer;
  /** Where the container runs when the trip starts. */
  startEdge: string;
  /** What a migration takes from its start to its end, wall seconds: measured before, or the plan's first guess. */
  migrationWallS: number;
  out: string;
  log: (line: string) => void;
  onEvent?: EventListener;
}

export interface TripRunResult {
  record: TripRecord;
  handovers: HandoverRecord[];
}

/** Each edge's uplink with the user's delay class on it, set and changed over open connections. */
class EdgeDelays {
  private constructor(
    private readonly conns: Map<string, { c: SshConnection; dev: string; rtt?: number }>,
    private readonly controllerIp: string,
  ) {}

  static async open(inv: Inventory): Promise<EdgeDelays> {
    const subnet = parseSubnet(inv.subnet);
    if (!subnet) throw new FollowmeError(`testbed ${inv.prefix}: its subnet ${inv.subnet} is not a network`);
    const conns = new Map<string, { c: SshConnection; dev: string }>();
    try {
      for (const e of edges(inv)) {
        const c = await SshConnection.connect(sshTarget(inv, e));
        conns.set(e.name, { c, dev: '' });
        conns.get(e.name)!.dev = await uplink(c);
      }
    } catch (e) {
      for (const { c } of conns.values()) c.close();
      throw e;
    }
    return new EdgeDelays(conns, hostAddress(subnet, 1));
  }

  /** Each edge's delay to the controller as `rtt` says for it; only the ones that change. */
  async set(rtt: (edge: string) => number | undefined): Promise<void> {
    await Promise.all(
      [...this.conns].map(async ([edge, e]) => {
        const want = rtt(edge);
        if (want === undefined || want === e.rtt) return;
        if (e.rtt === undefined) for (const argv of userLatency.apply(e.dev, this.controllerIp, want)) await e.c.check(argv);
        else await e.c.check(userLatency.change(e.dev, want));
        e.rtt = want;
      }),
    );
  }

  close(): void {
    for (const { c } of this.conns.values()) c.close();
  }
}

export async function runTrip(o: TripRunOptions): Promise<TripRunResult> {
  const { plan, planned, inventory: inv, cells, container: c } = o;
  const policy = HANDOVER_POLICIES.find((p) => p.name === planned.policy)!;
  const workload = workloadNamed(plan.workload.name);
  const attempt = randomBytes(6).toString('hex');
  const base = { key: planned.key, attempt };
  const t0 = o.trip.points[0]!.t;
  const points: TripPoint[] = o.trip.points.map((p) => ({ ...p, t: p.t - t0 }));
  const tripWallMs = (points.at(-1)!.t * 1000) / plan.speedup;
  const startedAt = new Date().toISOString();
  const handovers: HandoverRecord[] = [];
  const cellAt = (p: TripPoint) => servingCell(cells, p)?.edge;
  const rttFor = (userCell: string | undefined, edge: string) => rttMs(o.latency, cells, userCell, edge);

  const delays = await EdgeDelays.open(inv);
  let error: string | undefined;
  let serviceEdge = o.startEdge;
  let before: StateReading | undefined;
  let probe: Probe | undefined;
  let client: Awaited<ReturnType<NonNullable<typeof workload.startClient>>> | undefined;
  let clientLeadMs = 0;
  try {
    await delays.set((edge) => rttFor(cellAt(points[0]!), edge));
    before = await eventually(() => workload.readState(c.ip));
    const clientStartedAt = performance.now();
    client = workload.startClient ? await workload.startClient(c.ip, plan.workload.params, { maxMs: tripWallMs + AFTER_TRIP_MS }) : undefined;
    clientLeadMs = performance.now() - clientStartedAt;
    probe = startProbe({ ip: c.ip, ...workload.service, ...plan.probe, maxMs: tripWallMs + AFTER_TRIP_MS });
    if (!(await probe.answersAfter(10, 30_000))) throw new FollowmeError(`${c.name} did not answer its service probe before the trip`);
    const follower = new TripFollower({
      inventory: inv,
      policy,
      strategy: planned.strategy,
      container: c.name,
      predumps: plan.predumps,
      speedup: plan.speedup,
      cells,
      points,
      startEdge: o.startEdge,
      migrationWallS: o.migrationWallS,
      probe,
      setDelays: (cell) => delays.set((edge) => rttFor(cell, edge)),
      rttFor,
      base,
      out: o.out,
      log: o.log,
      ...(o.onEvent ? { onEvent: o.onEvent } : {}),
    });
    try {
      await follower.run();
    } finally {
      serviceEdge = follower.serviceEdge;
      handovers.push(...follower.handovers);
      if (follower.failure) error ??= follower.failure;
    }
  } catch (e) {
    error ??= (e as Error).message;
  } finally {
    delays.close();
  }
  const clientReport = await client?.stop();
  const probed = probe ? await probe.stop() : undefined;
  let after: StateReading | undefined;
  let problem: string | undefined;
  try {
    after = await eventually(() => workload.readState(c.ip));
    if (before) problem = stateProblem(before, after);
  } catch (e) {
    problem = `its state could not be read after the trip: ${(e as Error).message}`;
  }
  if (clientReport?.error)
    problem ??= `its ${clientReport.kind}: ${clientReport.error}${clientReport.errorAtMs !== undefined ? ` (at ${((clientReport.errorAtMs - clientLeadMs) / 1000).toFixed(1)} s of the trip's probe)` : ''}`;
  const record: TripRecord = {
    kind: 'trip',
    ...base,
    index: planned.index,
    plan: plan.name,
    trace: planned.trace,
    policy: planned.policy,
    strategy: planned.strategy,
    repetition: planned.repetition,
    container: c.name,
    startEdge: o.startEdge,
    endEdge: serviceEdge,
    startedAt,
    endedAt: new Date().toISOString(),
    durationS: points.at(-1)!.t,
    speedup: plan.speedup,
    budgetMs: plan.budgetMs,
    latency: { ...o.latency },
    outcome: error ? 'failed' : 'completed',
    ...(probed ? { probe: probed.report } : {}),
    ...(clientReport ? { client: clientReport } : {}),
    state: { before: before?.text ?? '', ...(after ? { after: after.text } : {}), ...(problem ? { problem } : {}) },
    ...(error ? { error: error.slice(0, 4000) } : {}),
  };
  appendTripLine(o.out, record);
  return { record, handovers };
}
