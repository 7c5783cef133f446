import type { TraceSample } from '../trip.js';

export interface TraceFormat {
  readonly name: string;
  /** What it looks like, for a message that names the formats. */
  readonly describe: string;
  /** Whether a text is in this format (cheap: its first lines). */
  sniff(text: string): boolean;
  /** Every vehicle's samples, in file order; throws TraceError naming the place and the problem. */
  parse(text: string, file: string): Map<string, TraceSample[]>;
}

/** A finite number from a field, or undefined. */
export function numberOf(v: unknown): number | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  if (typeof v === 'string' && !/^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

export function push(m: Map<string, TraceSample[]>, id: string, s: TraceSample): void {
  const list = m.get(id);
  if (list) list.push(s);
  else m.set(id, [s]);
}
