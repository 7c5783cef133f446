// The edges' cells along a road (a stack config's: provision checks them,
// mobility uses them): where each edge is, how far its radio reaches, which
// cell serves a point, and where the cells leave the road uncovered. The
// road runs through the edges' positions in their order.
// Pure geometry, metres.

export interface Point {
  x: number;
  y: number;
}

export interface Cell extends Point {
  /** The edge this cell belongs to. */
  edge: string;
  radiusM: number;
}

/** A stretch of road no cell covers, as distances along the road from its start. */
export interface CoverageGap {
  fromM: number;
  toM: number;
  /** The two edges whose cells leave it between them. */
  between: [string, string];
}

const dist = (a: Point, b: Point) => Math.hypot(a.x - b.x, a.y - b.y);

/**
 * The cell serving a point: among the cells covering it, the one whose
 * centre is nearest (ties to the earlier edge on the road); none when no
 * cell covers it.
 */
export function servingCell(cells: readonly Cell[], p: Point): Cell | undefined {
  let best: Cell | undefined;
  for (const c of cells) if (dist(c, p) <= c.radiusM && (!best || dist(c, p) < dist(best, p))) best = c;
  return best;
}

/** The length of the polyline through `points`, in order. */
export function polylineLengthM(points: readonly Point[]): number {
  let m = 0;
  for (let i = 1; i < points.length; i++) m += dist(points[i - 1]!, points[i]!);
  return m;
}

/** The road's length: the polyline through the cells' centres. */
export const roadLengthM = (cells: readonly Cell[]): number => polylineLengthM(cells);

/** The parameter interval [t0, t1] ⊂ [0, 1] of segment a→b inside the disk, if any. */
function segmentInDisk(a: Point, b: Point, c: Cell): [number, number] | undefined {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const fx = a.x - c.x;
  const fy = a.y - c.y;
  const A = dx * dx + dy * dy;
  if (A === 0) return dist(a, c) <= c.radiusM ? [0, 1] : undefined;
  const B = 2 * (fx * dx + fy * dy);
  const C = fx * fx + fy * fy - c.radiusM * c.radiusM;
  const disc = B * B - 4 * A * C;
  if (disc < 0) return undefined;
  const r = Math.sqrt(disc);
  const t0 = Math.max(0, (-B - r) / (2 * A));
  const t1 = Math.min(1, (-B + r) / (2 * A));
  return t0 <= t1 ? [t0, t1] : undefined;
}

/**
 * Every stretch of the road (between the first and the last edge) that no
 * cell covers. Empty when the cells cover it all.
 */
export function coverageGaps(cells: readonly Cell[]): CoverageGap[] {
  const gaps: CoverageGap[] = [];
  let offset = 0;
  for (let i = 1; i < cells.length; i++) {
    const a = cells[i - 1]!;
    const b = cells[i]!;
    const len = dist(a, b);
    const covered = cells
      .map((c) => segmentInDisk(a, b, c))
      .filter((x): x is [number, number] => x !== undefined)
      .sort((p, q) => p[0] - q[0]);
    let reached = 0;
    for (const [t0, t1] of covered) {
      if (t0 > reached) gaps.push({ fromM: offset + reached * len, toM: offset + t0 * len, between: [a.edge, b.edge] });
      reached = Math.max(reached, t1);
    }
    if (reached < 1) gaps.push({ fromM: offset + reached * len, toM: offset + len, between: [a.edge, b.edge] });
    offset += len;
  }
  return gaps;
}

/** The box the cells cover: a trace outside it is on another map. */
export function mapBounds(cells: readonly Cell[]): { minX: number; maxX: number; minY: number; maxY: number } {
  return {
    minX: Math.min(...cells.map((c) => c.x - c.radiusM)),
    maxX: Math.max(...cells.map((c) => c.x + c.radiusM)),
    minY: Math.min(...cells.map((c) => c.y - c.radiusM)),
    maxY: Math.max(...cells.map((c) => c.y + c.radiusM)),
  };
}

/** Hops between two edges along the road (their distance in the road's order). */
export function hopsBetween(cells: readonly Cell[], a: string, b: string): number {
  const i = cells.findIndex((c) => c.edge === a);
  const j = cells.findIndex((c) => c.edge === b);
  if (i < 0 || j < 0) throw new Error(`hopsBetween: no cell for ${i < 0 ? a : b}`);
  return Math.abs(i - j);
}
