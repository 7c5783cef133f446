// A progressive-download client, as a media player that is not DASH plays a
// file: one GET of the whole file over one connection, read at the video's
// own bit rate. It reads no faster than that, so the server's send queue
// and this side's receive window stay full: at a migration's freeze the
// socket is full in both directions of the pipe, which is what CRIU's
// --tcp-established must carry over. Every byte is checked against the file
// (stream-check.ts). At the end of the file it asks again on the same
// connection. Bounded: it stops by itself after `maxMs`.
import { Agent, type IncomingMessage, request } from 'node:http';
import type { Socket } from 'node:net';
import { describeMismatch, firstMismatch } from './stream-check.js';
import { clientRun } from './client-run.js';
import type { WorkloadClient } from './types.js';

export interface ProgressiveOptions {
  ip: string;
  port: number;
  path: string;
  /** The file as the server should send it. */
  file: Uint8Array;
  durationS: number;
  maxMs: number;
  /** Seconds of video that must wait before playback stalls (the player's own buffer, beyond the kernel's). */
  stallAfterS?: number;
  tickMs?: number;
}

export function startProgressiveClient(o: ProgressiveOptions): WorkloadClient {
  const bytesPerMs = o.file.length / (o.durationS * 1000);
  const stallAfterBytes = (o.stallAfterS ?? 0.5) * 1000 * bytesPerMs;
  // As the segment player: no TCP keep-alive probes after 1 s idle (libuv's would drop a connection silent for 11 s).
  const agent = new Agent({ keepAlive: true, keepAliveMsecs: 600_000, maxSockets: 1 });
  const sockets = new WeakSet<Socket>();
  const run = clientRun({
    kind: 'progressive download',
    maxMs: o.maxMs,
    tickMs: o.tickMs,
    tick: () => tick(),
    end: (now) => {
      if (stallStart !== undefined) run.stalls.push({ atMs: stallStart - run.started, ms: now - stallStart });
      agent.destroy();
      return { connections, requests, bytes: received, verifiedBytes: verified };
    },
  });
  const fail = run.fail;
  let last = run.started;
  let connections = 0;
  let requests = 0;
  let received = 0;
  let verified = 0;
  /** Where the next byte read lies in the file. */
  let offset = 0;
  /** Bytes playback may take now: grows at the bit rate, shrinks with each read. */
  let allowance = 0;
  let response: IncomingMessage | undefined;
  let stallStart: number | undefined;

  const get = () => {
    requests++;
    offset = 0;
    const req = request({ host: o.ip, port: o.port, path: o.path, agent }, (res) => {
      if (res.statusCode !== 200 || Number(res.headers['content-length']) !== o.file.length) {
        fail(new Error(`GET ${o.path} answered ${res.statusCode} with ${res.headers['content-length']} bytes, not 200 with ${o.file.length}`));
        res.resume();
        return;
      }
      res.pause();
      response = res;
      res.on('end', () => {
        if (offset !== o.file.length) fail(new Error(`GET ${o.path} ended after ${offset} of ${o.file.length} bytes`));
        response = undefined;
        if (!run.stopped) get();
      });
      res.on('error', fail);
      res.on('aborted', () => fail(new Error(`the server closed the connection at byte ${offset} of ${o.file.length}`)));
    });
    req.on('socket', (s: Socket) => {
      if (sockets.has(s)) return;
      sockets.add(s);
      connections++;
      s.on('close', (hadError) => {
        if (!run.stopped) fail(new Error(`the connection closed${hadError ? ' with an error' : ''} at byte ${offset} of ${o.file.length}`));
      });
    });
    req.on('error', fail);
    req.end();
  };

  /** Reads what playback may take now, checking every byte. */
  const consume = () => {
    while (allowance > 0 && response) {
      const chunk = response.read() as Buffer | null;
      if (chunk === null) break;
      const wrong = firstMismatch(o.file, offset, chunk);
      if (wrong) {
        fail(new Error(describeMismatch(wrong, o.path)));
        return;
      }
      offset += chunk.length;
      received += chunk.length;
      verified += chunk.length;
      allowance -= chunk.length;
    }
  };

  const tick = () => {
    const now = performance.now();
    allowance += (now - last) * bytesPerMs;
    last = now;
    consume();
    if (run.stopped) return;
    // Waiting for data longer than the player's own buffer lasts is a stall; a stalled player does not catch up later.
    if (allowance > stallAfterBytes) {
      stallStart ??= now;
      allowance = stallAfterBytes;
    } else if (stallStart !== undefined) {
      run.stalls.push({ atMs: stallStart - run.started, ms: now - stallStart });
      stallStart = undefined;
    }
  };

  get();
  return run.client;
}
