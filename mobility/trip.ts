// A trip: one vehicle's positions over time, read from a trace file in one
// of the registered formats (traces/registry.ts) and checked like every
// input before anything uses it: its size, one vehicle (or the one asked
// for), times strictly increasing, every point on the edges' map.
import { createHash } from 'node:crypto';
import { ConfigError } from '../common/errors.js';
import { shown } from '../common/input/clip.js';
import { readInputFile } from '../common/input/read.js';
import { type Cell, type Point, mapBounds, polylineLengthM, roadLengthM, servingCell } from '../common/road-cells.js';
import { TRACE_FORMATS, type TraceFormat } from './traces/registry.js';

export interface TripPoint extends Point {
  /** Seconds from the trace's clock. */
  t: number;
}

/** A sample as a trace file gives it: where in the file it is, for messages. */
export interface TraceSample extends TripPoint {
  /** "line 12", or "timestep 4" where the format has no useful line. */
  at: string;
}

export interface Trip {
  vehicle: string;
  points: TripPoint[];
  format: string;
}

/** The largest trace file read: a day of one vehicle at 10 Hz in any of the formats fits. */
export const MAX_TRACE_BYTES = 64 * 1024 * 1024;

/** A problem at a place in a trace file; becomes a ConfigError naming --trace. */
export class TraceError extends ConfigError {
  override name = 'TraceError';
  constructor(file: string, at: string, problem: string) {
    super(`trace ${file}: ${at}: ${problem}`, 'trace');
  }
}

/** The format a text is in: the one asked for, or the first whose sniff accepts it. */
export function formatOf(text: string, file: string, asked?: string): TraceFormat {
  if (asked !== undefined) {
    const f = TRACE_FORMATS.find((x) => x.name === asked);
    if (!f) throw new ConfigError(`--format: ${shown(asked)} is not a trace format; formats: ${TRACE_FORMATS.map((x) => x.name).join(', ')}`, 'format');
    return f;
  }
  const f = TRACE_FORMATS.find((x) => x.sniff(text));
  if (!f) throw new TraceError(file, 'line 1', `not a trace in any known format (${TRACE_FORMATS.map((x) => `${x.name}: ${x.describe}`).join('; ')})`);
  return f;
}

/** The trip of one vehicle in a trace's text, checked against the cells' map. */
export function tripFromText(text: string, file: string, cells: readonly Cell[], o: { vehicle?: string; format?: string } = {}): Trip {
  const format = formatOf(text, file, o.format);
  const vehicles = format.parse(text, file);
  const ids = [...vehicles.keys()];
  if (ids.length === 0) throw new TraceError(file, 'end of file', 'no positions in the trace');
  let vehicle = o.vehicle;
  if (vehicle === undefined) {
    if (ids.length > 1)
      throw new ConfigError(
        `trace ${file}: ${ids.length} vehicles (${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''}); choose one with --vehicle ID`,
        'vehicle',
      );
    vehicle = ids[0]!;
  } else if (!vehicles.has(vehicle)) {
    throw new ConfigError(`--vehicle: no vehicle ${shown(vehicle)} in ${file}; it has ${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''}`, 'vehicle');
  }
  const samples = vehicles.get(vehicle)!;
  if (samples.length < 2) throw new TraceError(file, samples[0]?.at ?? 'end of file', `vehicle ${vehicle} has ${samples.length} position; a trip needs two`);
  const box = mapBounds(cells);
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    if (i > 0 && s.t <= samples[i - 1]!.t)
      throw new TraceError(file, s.at, `time ${s.t} does not follow ${samples[i - 1]!.t} (${samples[i - 1]!.at}): times must increase`);
    if (s.x < box.minX || s.x > box.maxX || s.y < box.minY || s.y > box.maxY)
      throw new TraceError(file, s.at, `(${s.x}, ${s.y}) is off the edges' map: x ${box.minX}…${box.maxX}, y ${box.minY}…${box.maxY} m`);
  }
  return { vehicle, format: format.name, points: samples.map(({ t, x, y }) => ({ t, x, y })) };
}

/** Reads a trace file (at most MAX_TRACE_BYTES) and returns its checked trip. */
export function readTrip(file: string, cells: readonly Cell[], o: { vehicle?: string; format?: string } = {}): Trip & { sha256: string } {
  // Bounded, regular files only: a FIFO or /dev/zero is refused before a byte is read.
  const text = readInputFile(file, { what: 'trace', key: 'trace', maxBytes: MAX_TRACE_BYTES });
  return { ...tripFromText(text, file, cells, o), sha256: createHash('sha256').update(text).digest('hex') };
}

/** A trip's duration (s) and length (m). */
export function tripSize(trip: Trip): { durationS: number; lengthM: number } {
  return { durationS: trip.points.at(-1)!.t - trip.points[0]!.t, lengthM: polylineLengthM(trip.points) };
}

export interface Crossing {
  /** Seconds from the trip's start. */
  t: number;
  /** The cell left and the cell entered; null off coverage. */
  from: string | null;
  to: string | null;
}

/** Each change of serving cell along the trip, at the first position in the new one. */
export function crossings(trip: Trip, cells: readonly Cell[]): Crossing[] {
  const out: Crossing[] = [];
  const t0 = trip.points[0]!.t;
  let current = servingCell(cells, trip.points[0]!)?.edge ?? null;
  for (const p of trip.points.slice(1)) {
    const here = servingCell(cells, p)?.edge ?? null;
    if (here !== current) out.push({ t: p.t - t0, from: current, to: here });
    current = here;
  }
  return out;
}

/**
 * A trip along the whole road at a constant speed, one position a second:
 * for labs without SUMO. The road runs through the cells' centres.
 */
export function synthTrip(cells: readonly Cell[], speedKmh: number): Trip {
  const v = speedKmh / 3.6;
  const length = roadLengthM(cells);
  const points: TripPoint[] = [];
  for (let t = 0; ; t++) {
    const d = Math.min(t * v, length);
    points.push({ t, ...pointAlong(cells, d) });
    if (d >= length) break;
  }
  return { vehicle: 'synth', format: 'csv', points };
}

/** The point `d` metres along the road from its start. */
function pointAlong(cells: readonly Cell[], d: number): Point {
  let left = d;
  for (let i = 1; i < cells.length; i++) {
    const a = cells[i - 1]!;
    const b = cells[i]!;
    const len = Math.hypot(b.x - a.x, b.y - a.y);
    if (left <= len && len > 0) return { x: a.x + ((b.x - a.x) * left) / len, y: a.y + ((b.y - a.y) * left) / len };
    left -= len;
  }
  const last = cells.at(-1)!;
  return { x: last.x, y: last.y };
}
