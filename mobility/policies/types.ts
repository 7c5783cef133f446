// A handover policy decides, at each position of the trip, whether the
// service should start moving and where to. It sees the trip so far, the
// whole path when the policy knows it, where the service runs, and what the
// migrations before took. Pure: the trip runner acts on its decisions.
import type { Cell } from '../../common/road-cells.js';
import type { TripPoint } from '../trip.js';

export interface PolicyView {
  cells: readonly Cell[];
  /** The positions so far, the last one now (trip time, seconds from its start). */
  sofar: readonly TripPoint[];
  /** The whole trip, for a policy that knows the path. */
  path?: readonly TripPoint[];
  /** The edge running the service. */
  serviceEdge: string;
  /** A migration under way, if any. */
  migrating?: { to: string; startedT: number };
  /** What a migration takes from its start to its cutover (s): measured on the ones before, or the policy's first guess. */
  migrationS: number;
}

export type Decision = { kind: 'stay' } | { kind: 'migrate'; to: string; why: string };

export interface HandoverPolicy {
  readonly name: string;
  readonly summary: string;
  /** Whether it needs the whole path in advance (the trace), not only the trip so far. */
  readonly knowsPath: boolean;
  /** The storage its migrations need (an unknown path cannot copy ahead); 'none' for a policy that never migrates. */
  readonly storage: 'copied' | 'shared' | 'none';
  decide(view: PolicyView): Decision;
}

export const STAY: Decision = { kind: 'stay' };
