// The only list of trace formats. A format is one file and one entry here.
import { csv } from './csv.js';
import { one } from './one.js';
import { sumoFcd } from './sumo-fcd.js';
import type { TraceFormat } from './types.js';

export type { TraceFormat } from './types.js';

export const TRACE_FORMATS: readonly TraceFormat[] = [sumoFcd, one, csv];
