// blank: the paper's blank container. Its init counts in memory and serves
// the count over HTTP (busybox httpd): reachability and continuity in one.
import { Type } from '@sinclair/typebox';
import { FollowmeError } from '../common/errors.js';
import { startCounterClient } from './counter-client.js';
import { httpGetText } from './http.js';
import type { StateReading, Workload } from './types.js';

export async function readCount(ip: string, timeoutMs = 3000): Promise<number> {
  const body = await httpGetText(ip, 80, '/count', timeoutMs);
  const n = Number(body.trim());
  if (!Number.isInteger(n)) throw new FollowmeError(`http://${ip}/count answered ${JSON.stringify(body.slice(0, 40))}, not a count`);
  return n;
}

export async function countReading(ip: string): Promise<StateReading> {
  const n = await readCount(ip);
  return { progress: n, intact: true, text: `count ${n}` };
}

export const blank: Workload = {
  name: 'blank',
  summary: 'a Debian container counting in memory, served by busybox httpd',
  template: {
    packages: ['busybox', 'iproute2'],
    files: [{ from: 'followme-init', to: '/usr/local/sbin/followme-init', mode: 0o755 }],
  },
  params: Type.Object({}, { additionalProperties: false }),
  defaults: {},
  service: { port: 80, path: '/count' },
  install: async () => {},
  readState: countReading,
  // The count grows every 0.1 s (more like 0.15 s on a loaded TCG guest): a second without growth is a stall.
  startClient: async (ip, _params, limits) =>
    startCounterClient({ read: () => readCount(ip, 1000), intervalMs: 100, stallAfterMs: 1000, maxMs: limits.maxMs, kind: 'counter' }),
};
