// The client of the tcp workload (guest/tcp/streams.py), on the controller:
// two connections whose every byte is known in advance (the stream's own
// offsets, stream-pattern.ts), both kept full through a migration:
//   source (port 9001): the server sends as fast as it can, this side reads
//     at `readBytesPerS`, so the server's send queue and this side's receive
//     window are full at the freeze;
//   echo (port 9002): this side writes the pattern as fast as the socket
//     takes it and reads the echo back at `readBytesPerS`, so the queues of
//     both directions are full.
// Every byte read is checked; the server checks every byte it receives
// (its state says so). Bounded: it stops by itself after `maxMs`.
import { connect, type Socket } from 'node:net';
import { describeMismatch, firstMismatch } from './stream-check.js';
import { patternBytes } from './stream-pattern.js';
import { clientRun } from './client-run.js';
import type { WorkloadClient } from './types.js';

export interface TcpClientOptions {
  ip: string;
  /** The source listens on base + 1, the echo on base + 2. */
  basePort: number;
  readBytesPerS: number;
  maxMs: number;
  /** No byte read for this long is a stall. */
  stallAfterMs?: number;
  tickMs?: number;
}

/** One connection read at a set rate, every byte checked against the pattern. */
interface Reader {
  socket: Socket;
  what: string;
  offset: number;
  allowance: number;
}

export function startTcpClient(o: TcpClientOptions): WorkloadClient {
  const bytesPerMs = o.readBytesPerS / 1000;
  const stallAfterMs = o.stallAfterMs ?? 1000;
  const run = clientRun({
    kind: 'tcp streams',
    maxMs: o.maxMs,
    tickMs: o.tickMs,
    tick: () => tick(),
    end: (now) => {
      if (now - lastByteAt > stallAfterMs) run.stalls.push({ atMs: lastByteAt - run.started, ms: now - lastByteAt });
      source.socket.destroy();
      echo.socket.destroy();
      const verified = source.offset + echo.offset;
      return { connections: 2, requests: 2, bytes: verified, verifiedBytes: verified };
    },
  });
  const fail = run.fail;
  let last = run.started;
  let lastByteAt = run.started;
  let written = 0;

  const open = (port: number, what: string): Reader => {
    const socket = connect({ host: o.ip, port });
    socket.pause();
    const r: Reader = { socket, what, offset: 0, allowance: 0 };
    socket.on('error', (e) => fail(new Error(`${what}: ${e.message} at byte ${r.offset}`)));
    socket.on('close', () => fail(new Error(`${what}: the connection closed at byte ${r.offset}`)));
    socket.on('end', () => fail(new Error(`${what}: the server ended the stream at byte ${r.offset}`)));
    return r;
  };
  const source = open(o.basePort + 1, 'source');
  const echo = open(o.basePort + 2, 'echo');

  // The echo's outgoing pattern: written whenever the socket takes more (a chunk the socket refuses is still queued).
  const CHUNK = 64 * 1024;
  const writeMore = () => {
    while (!run.stopped) {
      const more = echo.socket.write(patternBytes(written, CHUNK));
      written += CHUNK;
      if (!more) return;
    }
  };
  echo.socket.on('connect', writeMore);
  echo.socket.on('drain', writeMore);

  const read = (r: Reader, dt: number) => {
    // A reader that could not read (nothing came) does not save up more than a second's worth.
    r.allowance = Math.min(r.allowance + dt * bytesPerMs, o.readBytesPerS);
    while (r.allowance > 0 && !run.stopped) {
      const chunk = r.socket.read() as Buffer | null;
      if (chunk === null) return;
      const wrong = firstMismatch(patternBytes(r.offset, chunk.length), 0, chunk);
      if (wrong) {
        fail(new Error(`${r.what}: ${describeMismatch({ ...wrong, offset: r.offset + wrong.offset }, 'the pattern')}`));
        return;
      }
      r.offset += chunk.length;
      r.allowance -= chunk.length;
      const now = performance.now();
      if (now - lastByteAt > stallAfterMs) run.stalls.push({ atMs: lastByteAt - run.started, ms: now - lastByteAt });
      lastByteAt = now;
    }
  };

  const tick = () => {
    const now = performance.now();
    read(source, now - last);
    read(echo, now - last);
    last = now;
  };
  return run.client;
}
