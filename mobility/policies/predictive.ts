// predictive: the path is known (the trace), so the service starts moving
// early enough that its cutover lands at the next border: the lead time is
// what the migrations before took (rootfs and pre-dumps go ahead while the
// user is still in the old cell), plus a margin. Any copied-storage
// strategy, the fast ones included.
import { servingCell } from '../../common/road-cells.js';
import type { TripPoint } from '../trip.js';
import { type HandoverPolicy, STAY } from './types.js';

/** Added to the expected migration time: the cutover should come before the border, not after. */
export const LEAD_MARGIN_S = 2;

/** The index of the first position at or after `t` (the path's times increase): asked at every position, so not a scan from the start. */
function firstAtOrAfter(path: readonly TripPoint[], t: number): number {
  let lo = 0;
  let hi = path.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (path[mid]!.t < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export const predictive: HandoverPolicy = {
  name: 'predictive',
  summary: `start each migration the measured migration time (+${LEAD_MARGIN_S} s) before the next border on the known path; copied storage`,
  knowsPath: true,
  storage: 'copied',
  decide({ cells, sofar, path, serviceEdge, migrating, migrationS }) {
    if (migrating || !path) return STAY;
    const now = sofar.at(-1)!;
    const lead = migrationS + LEAD_MARGIN_S;
    const cellOf = (p: { x: number; y: number }) => servingCell(cells, p)?.edge;
    // The borders ahead on the path, within the lead time (no later one can start a move now): each position whose cell
    // differs from the one before it.
    const ahead: TripPoint[] = [];
    for (let i = firstAtOrAfter(path, now.t); i < path.length && path[i]!.t <= now.t + lead; i++) ahead.push(path[i]!);
    const borders: { t: number; to: string }[] = [];
    for (let i = 1; i < ahead.length; i++) {
      const to = cellOf(ahead[i]!);
      if (to !== undefined && to !== cellOf(ahead[i - 1]!)) borders.push({ t: ahead[i]!.t, to });
    }
    const here = cellOf(now);
    if (here !== undefined && here !== serviceEdge) {
      // The service went ahead and the user is about to follow: wait. Otherwise it is late: catch up.
      if (borders[0]?.to === serviceEdge && borders[0].t - now.t <= lead) return STAY;
      return { kind: 'migrate', to: here, why: `the user is in ${here}'s cell and the service is not` };
    }
    const next = borders.find((b) => b.to !== serviceEdge);
    if (!next || next.t - now.t > lead) return STAY;
    return { kind: 'migrate', to: next.to, why: `border into ${next.to}'s cell in ${(next.t - now.t).toFixed(1)} s, lead ${lead.toFixed(1)} s` };
  },
};
