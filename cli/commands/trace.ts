// followme trace synth|show: trips without a testbed, so a lab can check a
// trace against a stack's road before it books the machines.
import { writeFileSync } from 'node:fs';
import { ConfigError } from '../../common/errors.js';
import { coverageGaps } from '../../common/road-cells.js';
import { cellsOf } from '../../mobility/road.js';
import { crossings, readTrip, synthTrip, tripSize } from '../../mobility/trip.js';
import { decimalNumber, outputPath } from '../flags.js';
import { log, print } from '../output.js';
import type { TraceShowFlags, TraceSynthFlags } from '../program.js';
import { loadTopology } from './testbed.js';

function roadOf(o: { stack: string; config?: string }) {
  const { topology, source } = loadTopology(o);
  return { cells: cellsOf(topology, source), source };
}

export async function traceSynth(flags: TraceSynthFlags): Promise<void> {
  const speed = decimalNumber('speed', flags.speed, 1, 500);
  const out = flags.out === undefined ? undefined : outputPath('out', flags.out);
  const { cells, source } = roadOf(flags);
  const trip = synthTrip(cells, speed);
  const csv = `t,x,y\n${trip.points.map((p) => `${p.t},${p.x.toFixed(2)},${p.y.toFixed(2)}`).join('\n')}\n`;
  if (!out) return print(csv);
  try {
    writeFileSync(out, csv);
  } catch (e) {
    throw new ConfigError(`--out: cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'out');
  }
  const { durationS, lengthM } = tripSize(trip);
  log(`${out}: ${trip.points.length} positions, ${Math.round(lengthM)} m in ${durationS} s at ${speed} km/h along ${source}`);
}

export async function traceShow(file: string, flags: TraceShowFlags): Promise<void> {
  const { cells, source } = roadOf(flags);
  const trip = readTrip(file, cells, flags.vehicle === undefined ? {} : { vehicle: flags.vehicle });
  const { durationS, lengthM } = tripSize(trip);
  const round = (x: number) => Math.round(x * 10) / 10;
  const cross = crossings(trip, cells).map((c) => ({ ...c, t: round(c.t) }));
  if (flags.json) return print(`${JSON.stringify({ durationS: round(durationS), lengthM: round(lengthM), crossings: cross })}\n`);
  const lines = [
    `trip of ${trip.vehicle} (${trip.format}, ${trip.points.length} positions) on ${source}`,
    `duration ${round(durationS)} s, length ${Math.round(lengthM)} m`,
    ...(cross.length ? cross.map((c) => `  ${c.t.toFixed(1).padStart(8)} s  ${c.from ?? '(no cell)'} → ${c.to ?? '(no cell)'}`) : ['  no border crossed']),
  ];
  if (coverageGaps(cells).length) lines.push('(the road has gaps between cells: see the stack config)');
  print(`${lines.join('\n')}\n`);
}
