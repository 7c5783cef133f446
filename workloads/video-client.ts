// A video player on the controller, as far as the network sees it: one
// keep-alive HTTP connection over which it fetches the video segment by
// segment (Range requests of half a second each, as DASH and HLS players
// do), only while its buffer holds less than a few seconds, so no more than
// that is ever on its way: the kernel's socket buffers cannot hide a stall.
// Playback consumes the buffer at the video's bit rate; it stalls when the
// buffer runs dry and resumes once it holds enough again. Every stall is
// recorded. At the end of the file it starts over, on the same connection.
// Every byte of every segment is checked against the file (stream-check.ts):
// a segment that skipped, repeated or changed data is an error, not bytes.
// Bounded: it stops by itself after `maxMs`.
import { Agent, request } from 'node:http';
import type { Socket } from 'node:net';
import { describeMismatch, firstMismatch } from './stream-check.js';
import { clientRun } from './client-run.js';
import type { WorkloadClient } from './types.js';

export interface PlayerOptions {
  ip: string;
  port: number;
  path: string;
  /** The file as the server should send it: its size and duration give the playback rate, its bytes the check. */
  file: Uint8Array;
  durationS: number;
  maxMs: number;
  /** Seconds of video the player buffers at most, needs to start, and needs to resume after a stall. */
  bufferS?: number;
  /** Seconds of video per request. */
  segmentS?: number;
  startupS?: number;
  resumeS?: number;
  tickMs?: number;
}

export function startPlayer(o: PlayerOptions): WorkloadClient {
  const size = o.file.length;
  const bytesPerMs = size / (o.durationS * 1000);
  const bufferBytes = (o.bufferS ?? 4) * 1000 * bytesPerMs;
  const startupBytes = (o.startupS ?? 1) * 1000 * bytesPerMs;
  const resumeBytes = (o.resumeS ?? 0.5) * 1000 * bytesPerMs;
  const segmentBytes = Math.max(1, Math.round((o.segmentS ?? 0.5) * 1000 * bytesPerMs));
  // HTTP keep-alive, but no TCP keep-alive probes soon: Node arms them after 1 s idle, and libuv sends 10 at 1 s intervals, so a
  // connection silent for 11 s (a migration's downtime under TCG) was dropped by the player's own kernel (ETIMEDOUT).
  const agent = new Agent({ keepAlive: true, keepAliveMsecs: 600_000, maxSockets: 1 });
  const sockets = new WeakSet<Socket>();
  const run = clientRun({
    kind: 'video player',
    maxMs: o.maxMs,
    tickMs: o.tickMs,
    tick: () => tick(),
    end: (now) => {
      if (state === 'stalled') run.stalls.push({ atMs: stallStart - run.started, ms: now - stallStart });
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
  let played = 0;
  /** Where the next segment starts in the file. */
  let offset = 0;
  let fetching = false;
  let state: 'startup' | 'playing' | 'stalled' = 'startup';
  let stallStart = 0;

  const fetchSegment = () => {
    fetching = true;
    requests++;
    const end = Math.min(size, offset + segmentBytes) - 1;
    let at = offset;
    const req = request({ host: o.ip, port: o.port, path: o.path, agent, headers: { Range: `bytes=${offset}-${end}` } }, (res) => {
      if (res.statusCode !== 206) {
        fail(new Error(`GET ${o.path} (bytes ${offset}-${end}) answered ${res.statusCode}, not 206`));
        res.resume();
        return;
      }
      res.on('data', (d: Buffer) => {
        const wrong = firstMismatch(o.file.subarray(0, end + 1), at, d);
        if (wrong) {
          fail(new Error(`segment ${offset}-${end}: ${describeMismatch(wrong, o.path)}`));
          res.destroy();
          return;
        }
        at += d.length;
        received += d.length;
        verified += d.length;
      });
      res.on('end', () => {
        fetching = false;
        if (at !== end + 1) fail(new Error(`segment ${offset}-${end} ended after ${at - offset} of its ${end + 1 - offset} bytes`));
        offset = end + 1 >= size ? 0 : end + 1;
      });
      res.on('error', fail);
      res.on('aborted', () => fail(new Error('the server closed the connection mid-segment')));
    });
    req.on('socket', (s: Socket) => {
      if (sockets.has(s)) return;
      sockets.add(s);
      connections++;
      s.on('close', (hadError) => {
        if (!run.stopped) fail(new Error(`the connection closed${hadError ? ' with an error' : ''} while playing`));
      });
    });
    req.on('error', fail);
    req.end();
  };

  const tick = () => {
    const now = performance.now();
    const dt = now - last;
    last = now;
    if (state === 'playing') {
      played += Math.min(received - played, dt * bytesPerMs);
      if (received - played <= 0) {
        state = 'stalled';
        stallStart = now;
      }
    } else if (received - played >= (state === 'startup' ? startupBytes : resumeBytes)) {
      if (state === 'stalled') run.stalls.push({ atMs: stallStart - run.started, ms: now - stallStart });
      state = 'playing';
    }
    if (!fetching && !run.stopped && received - played + segmentBytes <= bufferBytes) fetchSegment();
  };

  tick();
  return run.client;
}
