// reactive: the path is unknown, so the service follows the user once it is
// in a new cell, and only once it has stayed there HYSTERESIS_S: a user
// riding along a border would otherwise drag the service back and forth.
// Nothing can be copied ahead, so its migrations use shared storage.
import { servingCell } from '../../common/road-cells.js';
import { type HandoverPolicy, STAY } from './types.js';

/** How long the user must be served by another cell before the service follows. */
export const HYSTERESIS_S = 3;

export const reactive: HandoverPolicy = {
  name: 'reactive',
  summary: `migrate once the user has been in another cell for ${HYSTERESIS_S} s (hysteresis against ping-pong); shared storage`,
  knowsPath: false,
  storage: 'shared',
  decide({ cells, sofar, serviceEdge, migrating }) {
    if (migrating) return STAY;
    const now = sofar.at(-1)!;
    const here = servingCell(cells, now)?.edge;
    if (here === undefined || here === serviceEdge) return STAY;
    // Since when has the user been in this cell without a break?
    let since = now.t;
    for (let i = sofar.length - 2; i >= 0 && servingCell(cells, sofar[i]!)?.edge === here; i--) since = sofar[i]!.t;
    return now.t - since >= HYSTERESIS_S ? { kind: 'migrate', to: here, why: `in ${here}'s cell for ${(now.t - since).toFixed(1)} s` } : STAY;
  },
};
