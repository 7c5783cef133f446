// The user's view of the service: the round-trip time it would see from
// where it is to where the service runs. An emulation (user-latency.ts
// applies it): the radio's share (the user to the base station of its
// cell), plus the backhaul's per hop between its cell's edge and the edge
// running the service.
import { type Cell, hopsBetween } from '../common/road-cells.js';

/** A named latency profile (the stack config's). */
export interface LatencyProfile {
  name: string;
  /** The radio's round trip, user to its cell's edge (ms). */
  radioMs: number;
  /** Each backhaul hop's round trip, edge to the next edge on the road (ms). */
  perHopMs: number;
}

/**
 * RTT in ms for a user in `userCell` reaching the service on `serviceEdge`.
 * A user out of every cell reaches nothing: undefined.
 */
export function rttMs(profile: LatencyProfile, cells: readonly Cell[], userCell: string | undefined, serviceEdge: string): number | undefined {
  if (userCell === undefined) return undefined;
  return profile.radioMs + profile.perHopMs * hopsBetween(cells, userCell, serviceEdge);
}
