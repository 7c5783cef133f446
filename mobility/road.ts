// A stack's road: its edges' cells in order and its latency profiles, from a
// validated topology (validate.ts has checked positions, radii and gaps).
import { ConfigError } from '../common/errors.js';
import type { Topology } from '../provision/topology/schema.js';
import type { Cell } from '../common/road-cells.js';
import type { LatencyProfile } from './latency.js';

/** The cells of a stack whose edges have places on a road; refuses one without. */
export function cellsOf(t: Topology, source: string): Cell[] {
  const edges = t.nodes.filter((n) => n.role === 'edge');
  if (!edges.every((n) => n.position && n.radiusM !== undefined))
    throw new ConfigError(`${source}: its edges have no position and radiusM, so it has no road; use a stack that has one, such as corridor`, 'stack');
  return edges.map((n) => ({ edge: n.name, x: n.position!.x, y: n.position!.y, radiusM: n.radiusM! }));
}

/** The latency profile called `name`, or the stack's first. */
export function latencyProfileOf(t: Topology, source: string, name?: string): LatencyProfile {
  const all = t.latencyProfiles ?? [];
  if (all.length === 0) throw new ConfigError(`${source}: no latencyProfiles; a trip needs one to emulate the user's latency`, 'latencyProfiles');
  if (name === undefined) return all[0]!;
  const p = all.find((x) => x.name === name);
  if (!p) throw new ConfigError(`--latency: no profile "${name}" in ${source}; it has ${all.map((x) => x.name).join(', ')}`, 'latency');
  return p;
}
