// The workload registry: adding a workload is one file and one line here.
import { FollowmeError } from '../common/errors.js';
import { blank } from './blank.js';
import { memory } from './memory.js';
import { tcp } from './tcp.js';
import type { Workload, WorkloadName } from './types.js';
import { video } from './video.js';

export const WORKLOADS: Record<WorkloadName, Workload<never>> = { blank, video, memory, tcp } as unknown as Record<WorkloadName, Workload<never>>;

export function workloadNamed(name: string): Workload<Record<string, unknown>> {
  const w = (WORKLOADS as Record<string, Workload<never>>)[name];
  if (!w) throw new FollowmeError(`no workload "${name}"; known: ${Object.keys(WORKLOADS).join(', ')}`);
  return w as unknown as Workload<Record<string, unknown>>;
}
