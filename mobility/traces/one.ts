// The ONE simulator's external movement format: a header line
// "minTime maxTime minX maxX minY maxY", then "time id x y" per line.
import { TraceError } from '../trip.js';
import type { TraceSample } from '../trip.js';
import { numberOf, push, type TraceFormat } from './types.js';

const fields = (line: string) => line.trim().split(/\s+/);

export const one: TraceFormat = {
  name: 'one',
  describe: 'a header "minTime maxTime minX maxX minY maxY", then "time id x y" lines',
  sniff: (text) => {
    const head = fields(text.replace(/^\uFEFF/, '').split('\n', 1)[0] ?? '');
    return head.length === 6 && head.every((f) => numberOf(f) !== undefined);
  },
  parse(text, file) {
    const lines = text.replace(/^\uFEFF/, '').split('\n');
    const head = fields(lines[0] ?? '').map(numberOf);
    if (head.length !== 6 || head.some((n) => n === undefined))
      throw new TraceError(file, 'line 1', 'the header must be six numbers: minTime maxTime minX maxX minY maxY');
    const [minT, maxT, minX, maxX, minY, maxY] = head as number[];
    const out = new Map<string, TraceSample[]>();
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!.trim();
      if (!line) continue;
      const at = `line ${i + 1}`;
      const f = fields(line);
      if (f.length !== 4) throw new TraceError(file, at, `${f.length} fields; a position is "time id x y"`);
      const [t, x, y] = [f[0], f[2], f[3]].map(numberOf);
      if (t === undefined || x === undefined || y === undefined) throw new TraceError(file, at, 'time, x and y must be numbers');
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(f[1]!))
        throw new TraceError(file, at, `vehicle id ${JSON.stringify(f[1]!.slice(0, 20))} is not letters, digits, _ . -`);
      if (t < minT! || t > maxT! || x < minX! || x > maxX! || y < minY! || y > maxY!)
        throw new TraceError(file, at, `(${t}, ${x}, ${y}) is outside the header's bounds`);
      push(out, f[1]!, { t, x, y, at });
    }
    return out;
  },
};
