// SUMO's floating car data (sumo --fcd-output): <fcd-export> holding
// <timestep time="…"> elements, each with <vehicle id x y …/> children.
// Other elements (persons, containers) are ignored.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { TraceError } from '../trip.js';
import type { TraceSample } from '../trip.js';
import { numberOf, push, type TraceFormat } from './types.js';

interface Timestep {
  time?: string;
  vehicle?: Record<string, string>[];
}

export const sumoFcd: TraceFormat = {
  name: 'sumo-fcd',
  describe: 'SUMO FCD XML: <fcd-export><timestep time><vehicle id x y/>',
  sniff: (text) => /^\s*(<\?xml[^>]*\?>\s*)?(<!--[\s\S]*?-->\s*)*<fcd-export\b/.test(text.replace(/^\uFEFF/, '')),
  parse(text, file) {
    const valid = XMLValidator.validate(text);
    if (valid !== true) throw new TraceError(file, `line ${valid.err.line}`, valid.err.msg);
    const doc = new XMLParser({
      ignoreAttributes: false,
      attributeNamePrefix: '',
      processEntities: false,
      isArray: (name) => name === 'timestep' || name === 'vehicle',
    }).parse(text) as { 'fcd-export'?: { timestep?: Timestep[] } };
    const steps = doc['fcd-export']?.timestep ?? [];
    const out = new Map<string, TraceSample[]>();
    steps.forEach((step, i) => {
      const t = numberOf(step.time);
      const at = `timestep ${i + 1}`;
      if (t === undefined) throw new TraceError(file, at, `time ${JSON.stringify(String(step.time ?? '').slice(0, 20))} is not a number`);
      for (const v of step.vehicle ?? []) {
        const [x, y] = [numberOf(v['x']), numberOf(v['y'])];
        const id = String(v['id'] ?? '');
        if (!/^[A-Za-z0-9_.#:-]{1,64}$/.test(id))
          throw new TraceError(file, `${at} (time ${t})`, `vehicle id ${JSON.stringify(id.slice(0, 20))} is not a SUMO id`);
        if (x === undefined || y === undefined)
          throw new TraceError(
            file,
            `${at} (time ${t}), vehicle ${id}`,
            'x and y must be numbers (lon/lat output is not read: run SUMO without --fcd-output.geo)',
          );
        push(out, id, { t, x, y, at: `${at} (time ${t})` });
      }
    });
    return out;
  },
};
