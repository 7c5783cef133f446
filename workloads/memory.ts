// memory: a process dirtying memory at a set rate over a set working set and
// keeping a running checksum of it (guest/memory/dirty.py), so the pages in
// the last dump can be driven on purpose and the memory checked after a move.
import { type Static, Type } from '@sinclair/typebox';
import { FollowmeError } from '../common/errors.js';
import type { SshConnection } from '../common/ssh/transport.js';
import { startCounterClient } from './counter-client.js';
import { httpGetText } from './http.js';
import { putInRootfs } from './rootfs.js';
import type { StateReading, Workload } from './types.js';

export const MemoryParams = Type.Object(
  {
    /** MB of memory dirtied per second. */
    rateMBps: Type.Number({ minimum: 0, maximum: 1024 }),
    /** MB the dirtier cycles over (resident in the container). */
    workingSetMB: Type.Integer({ minimum: 1, maximum: 2048 }),
  },
  { additionalProperties: false },
);
export type MemoryParams = Static<typeof MemoryParams>;

/** "ticks pages_dirtied expected in_memory ok", as dirty.py writes it. */
export function parseMemoryState(text: string): StateReading {
  const m = /^(\d+) (\d+) (\d+) (\d+) ([01])\s*$/.exec(text);
  if (!m) throw new FollowmeError(`memory workload state ${JSON.stringify(text.slice(0, 60))} is not "ticks dirtied expected in_memory ok"`);
  return { progress: Number(m[1]), intact: m[5] === '1' && m[3] === m[4], text: `ticks ${m[1]}, pages dirtied ${m[2]}, checksum ${m[3]} (in memory ${m[4]})` };
}

async function install(node: SshConnection, rootfs: string, p: MemoryParams): Promise<void> {
  // Numbers only (the schema checked them): the env file is sourced by bash.
  const env = `RATE_MB_PER_S=${Number(p.rateMBps)}\nWORKING_SET_MB=${Math.trunc(p.workingSetMB)}\n`;
  await putInRootfs(node, rootfs, ['etc', 'followme'], 'memory.env', env);
}

export const memory: Workload<MemoryParams> = {
  name: 'memory',
  summary: 'a process dirtying memory at a set rate over a set working set, with a running checksum',
  template: {
    packages: ['busybox', 'iproute2', 'python3-minimal'],
    files: [
      { from: 'followme-init', to: '/usr/local/sbin/followme-init', mode: 0o755 },
      { from: 'dirty.py', to: '/usr/local/lib/followme/dirty.py', mode: 0o644 },
    ],
  },
  params: MemoryParams,
  defaults: { rateMBps: 10, workingSetMB: 64 },
  service: { port: 80, path: '/state' },
  install,
  readState: async (ip) => parseMemoryState(await httpGetText(ip, 80, '/state')),
  // dirty.py writes its state once a second: 2.5 s without a new tick count is a stall.
  startClient: async (ip, _params, limits) =>
    startCounterClient({
      read: async () => parseMemoryState(await httpGetText(ip, 80, '/state', 1000)).progress,
      intervalMs: 250,
      stallAfterMs: 2500,
      maxMs: limits.maxMs,
      kind: 'memory ticks',
    }),
};
