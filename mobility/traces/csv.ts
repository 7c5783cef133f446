// A plain CSV trip: a header naming t, x and y (other columns are ignored),
// then one position per row: seconds, metres, metres. One vehicle.
import { parse } from 'csv-parse/sync';
import { TraceError } from '../trip.js';
import type { TraceSample } from '../trip.js';
import { numberOf, type TraceFormat } from './types.js';

const firstLine = (text: string) => text.replace(/^\uFEFF/, '').split('\n', 1)[0] ?? '';

export const csv: TraceFormat = {
  name: 'csv',
  describe: 'a header t,x,y then one row per position',
  sniff: (text) => {
    const cols = firstLine(text)
      .split(',')
      .map((c) => c.trim().toLowerCase());
    return ['t', 'x', 'y'].every((c) => cols.includes(c));
  },
  parse(text, file) {
    let rows: { record: Record<string, string>; info: { lines: number } }[];
    try {
      rows = parse(text.replace(/^\uFEFF/, ''), {
        columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()),
        skip_empty_lines: true,
        trim: true,
        info: true,
      });
    } catch (e) {
      const line = (e as { lines?: number }).lines;
      throw new TraceError(file, line ? `line ${line}` : 'CSV', (e as Error).message);
    }
    const samples: TraceSample[] = [];
    for (const { record, info } of rows) {
      const at = `line ${info.lines}`;
      const [t, x, y] = (['t', 'x', 'y'] as const).map((k) => numberOf(record[k]));
      if (t === undefined || x === undefined || y === undefined) {
        const bad = (['t', 'x', 'y'] as const).find((k) => numberOf(record[k]) === undefined)!;
        throw new TraceError(file, at, `${bad} is ${JSON.stringify(String(record[bad] ?? '').slice(0, 20))}, not a number`);
      }
      samples.push({ t, x, y, at });
    }
    return samples.length ? new Map([['1', samples]]) : new Map();
  },
};
