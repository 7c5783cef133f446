// The only list of handover policies. A policy is one file and one entry here.
import { predictive } from './predictive.js';
import { reactive } from './reactive.js';
import { stay } from './stay.js';
import type { HandoverPolicy } from './types.js';

export type { Decision, HandoverPolicy, PolicyView } from './types.js';

export const HANDOVER_POLICIES: readonly HandoverPolicy[] = [stay, reactive, predictive];

export const policyNames = () => HANDOVER_POLICIES.map((p) => p.name);
