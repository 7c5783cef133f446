// tcp: two TCP streams kept full through a migration, every byte checked at
// both ends (guest/tcp/streams.py in the container, tcp-client.ts on the
// controller). The torture case of CRIU's --tcp-established: at the freeze
// the send and receive queues of both directions hold data, and a byte
// skipped, repeated or changed anywhere is caught.
import { type Static, Type } from '@sinclair/typebox';
import { FollowmeError } from '../common/errors.js';
import { httpGetText } from './http.js';
import { startTcpClient } from './tcp-client.js';
import type { StateReading, Workload } from './types.js';

export const TcpParams = Type.Object(
  {
    /** How fast the client reads each stream, kB/s: slower than the server sends, so the queues stay full. */
    readKBps: Type.Integer({ minimum: 16, maximum: 100_000 }),
  },
  { additionalProperties: false },
);
export type TcpParams = Static<typeof TcpParams>;

export const TCP_BASE_PORT = 9000;

/** "ticks sent received ok first_bad_offset", as streams.py writes it. */
export function parseTcpState(text: string): StateReading {
  const m = /^(\d+) (\d+) (\d+) ([01]) (-1|\d+)\s*$/.exec(text);
  if (!m) throw new FollowmeError(`tcp workload state ${JSON.stringify(text.slice(0, 60))} is not "ticks sent received ok first_bad_offset"`);
  const intact = m[4] === '1';
  return {
    progress: Number(m[1]),
    intact,
    text: `ticks ${m[1]}, sent ${m[2]} bytes, received ${m[3]} bytes${intact ? ', every byte as sent' : `, the echo stream differs from the pattern at byte ${m[5]}`}`,
  };
}

export const tcp: Workload<TcpParams> = {
  name: 'tcp',
  summary: 'a TCP stream kept full in each direction (bulk send, bulk echo), every byte checked at both ends',
  template: {
    packages: ['busybox', 'iproute2', 'python3-minimal'],
    files: [
      { from: 'followme-init', to: '/usr/local/sbin/followme-init', mode: 0o755 },
      { from: 'streams.py', to: '/usr/local/lib/followme/streams.py', mode: 0o644 },
    ],
  },
  params: TcpParams,
  defaults: { readKBps: 256 },
  service: { port: 80, path: '/state' },
  install: async () => undefined,
  readState: async (ip) => parseTcpState(await httpGetText(ip, 80, '/state')),
  startClient: async (ip, p, limits) => startTcpClient({ ip, basePort: TCP_BASE_PORT, readBytesPerS: p.readKBps * 1000, maxMs: limits.maxMs }),
};
