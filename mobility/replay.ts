// A policy replayed over a trip without a testbed: each migration takes the
// time it is given, and the user's cell and the service's edge are followed
// position by position: the decision logic a trip runner with real
// migrations will follow, and what the unit tests drive the policies with.
import { type Cell, hopsBetween, servingCell } from '../common/road-cells.js';
import type { HandoverPolicy } from './policies/registry.js';
import type { Trip, TripPoint } from './trip.js';

/** The positions a policy is shown back in time: reactive's hysteresis needs seconds of them, not the whole trip (which would make a long trip quadratic). */
export const SOFAR_POINTS = 600;

/**
 * What to do with a migration still running when the user crosses into a
 * cell that is not its target: `abort` it (roll back) when the user went
 * back into the source's cell; `chain` another move after it when the user
 * went on past the target; `skip` the crossing (let the migration finish,
 * start nothing more) otherwise.
 */
export type Overrun = 'abort' | 'chain' | 'skip';

export function overrunDecision(cells: readonly Cell[], source: string, target: string, userCell: string | undefined): Overrun | undefined {
  if (userCell === undefined || userCell === target) return undefined;
  if (userCell === source) return 'abort';
  const onward =
    hopsBetween(cells, source, userCell) > hopsBetween(cells, source, target) && hopsBetween(cells, target, userCell) < hopsBetween(cells, source, userCell);
  return onward ? 'chain' : 'skip';
}

export interface ReplayedHandover {
  from: string;
  to: string;
  startT: number;
  /** When it cut over; absent when aborted. */
  endT?: number;
  why: string;
  /** What happened to it at a border it overran. */
  overrun?: Overrun;
}

export interface Replay {
  handovers: ReplayedHandover[];
  /** Per position: where the user was served and where the service ran. */
  timeline: { t: number; userCell: string | undefined; serviceEdge: string; migrating: boolean }[];
}

export function replay(trip: Trip, cells: readonly Cell[], policy: HandoverPolicy, o: { migrationS: number; startEdge?: string }): Replay {
  const t0 = trip.points[0]!.t;
  const points: TripPoint[] = trip.points.map((p) => ({ ...p, t: p.t - t0 }));
  let serviceEdge = o.startEdge ?? servingCell(cells, points[0]!)?.edge ?? cells[0]!.edge;
  let running: ReplayedHandover | undefined;
  let chainTo: string | undefined;
  let lastUserCell = servingCell(cells, points[0]!)?.edge;
  const handovers: ReplayedHandover[] = [];
  const timeline: Replay['timeline'] = [];
  for (let i = 0; i < points.length; i++) {
    const p = points[i]!;
    const userCell = servingCell(cells, p)?.edge;
    if (running && p.t >= running.startT + o.migrationS) {
      running.endT = running.startT + o.migrationS;
      serviceEdge = running.to;
      running = undefined;
      if (chainTo && chainTo !== serviceEdge) {
        running = { from: serviceEdge, to: chainTo, startT: p.t, why: 'chained after an overrun' };
        handovers.push(running);
      }
      chainTo = undefined;
    }
    if (running && userCell !== lastUserCell) {
      const d = overrunDecision(cells, running.from, running.to, userCell);
      if (d) running.overrun = d;
      if (d === 'abort') running = undefined;
      if (d === 'chain') chainTo = userCell;
    }
    if (!running) {
      const view = {
        cells,
        sofar: points.slice(Math.max(0, i - SOFAR_POINTS), i + 1),
        ...(policy.knowsPath ? { path: points } : {}),
        serviceEdge,
        migrationS: o.migrationS,
      };
      const d = policy.decide(view);
      if (d.kind === 'migrate' && d.to !== serviceEdge) {
        running = { from: serviceEdge, to: d.to, startT: p.t, why: d.why };
        handovers.push(running);
      }
    }
    lastUserCell = userCell;
    timeline.push({ t: p.t, userCell, serviceEdge, migrating: running !== undefined });
  }
  return { handovers, timeline };
}
