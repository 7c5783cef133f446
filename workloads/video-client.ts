// A video player on the controller, as far as the network sees it: one HTTP
// connection (keep-alive; the video is played again on the same connection
// when it ends), read at the video's bit rate into a small buffer, paused
// when the buffer is full (TCP flow control does the rest). Playback stalls
// when the buffer runs dry and resumes once it holds enough again; every
// stall is recorded. Bounded: it stops by itself after `maxMs`.
import { Agent, request, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { ClientReport, WorkloadClient } from './types.js';

export interface PlayerOptions {
  ip: string;
  port: number;
  path: string;
  /** The file's size and duration give the playback rate. */
  bytes: number;
  durationS: number;
  maxMs: number;
  /** Seconds of video the player buffers at most, needs to start, and needs to resume after a stall. */
  bufferS?: number;
  startupS?: number;
  resumeS?: number;
  tickMs?: number;
}

export function startPlayer(o: PlayerOptions): WorkloadClient {
  const bytesPerMs = o.bytes / (o.durationS * 1000);
  const bufferBytes = (o.bufferS ?? 4) * 1000 * bytesPerMs;
  const startupBytes = (o.startupS ?? 1) * 1000 * bytesPerMs;
  const resumeBytes = (o.resumeS ?? 0.5) * 1000 * bytesPerMs;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new WeakSet<Socket>();
  const started = performance.now();
  let last = started;
  let connections = 0;
  let requests = 0;
  let received = 0;
  let played = 0;
  let state: 'startup' | 'playing' | 'stalled' = 'startup';
  let stallStart = 0;
  const stalls: { atMs: number; ms: number }[] = [];
  let error: string | undefined;
  let current: IncomingMessage | undefined;
  let paused = false;
  let stopped = false;
  let report: ClientReport | undefined;
  let resolveDone: (r: ClientReport) => void = () => {};
  const done = new Promise<ClientReport>((r) => (resolveDone = r));

  const fail = (e: Error) => {
    if (stopped) return;
    error ??= e.message;
    finish();
  };

  const play = () => {
    requests++;
    const req = request({ host: o.ip, port: o.port, path: o.path, agent }, (res) => {
      if (res.statusCode !== 200) {
        fail(new Error(`GET ${o.path} answered ${res.statusCode}`));
        res.resume();
        return;
      }
      current = res;
      if (paused) res.pause();
      res.on('data', (d: Buffer) => (received += d.length));
      res.on('end', () => {
        current = undefined;
        if (!stopped) play();
      });
      res.on('error', fail);
      res.on('aborted', () => fail(new Error('the server closed the connection mid-video')));
    });
    req.on('socket', (s: Socket) => {
      if (sockets.has(s)) return;
      sockets.add(s);
      connections++;
      s.on('close', (hadError) => {
        if (!stopped) fail(new Error(`the connection closed${hadError ? ' with an error' : ''} while playing`));
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
      if (state === 'stalled') stalls.push({ atMs: stallStart - started, ms: now - stallStart });
      state = 'playing';
    }
    const buffered = received - played;
    if (!paused && buffered >= bufferBytes) {
      paused = true;
      current?.pause();
    } else if (paused && buffered < bufferBytes / 2) {
      paused = false;
      current?.resume();
    }
  };

  const timer = setInterval(tick, o.tickMs ?? 20);
  const limit = setTimeout(() => finish(), o.maxMs);

  function finish(): ClientReport {
    if (report) return report;
    stopped = true;
    clearInterval(timer);
    clearTimeout(limit);
    const now = performance.now();
    if (state === 'stalled') stalls.push({ atMs: stallStart - started, ms: now - stallStart });
    agent.destroy();
    report = {
      kind: 'video player',
      connections,
      requests,
      bytes: received,
      ranMs: now - started,
      stalls,
      longestStallMs: Math.max(0, ...stalls.map((s) => s.ms)),
      ...(error ? { error } : {}),
    };
    resolveDone(report);
    return report;
  }

  play();
  return {
    stop: async () => {
      finish();
      return done;
    },
  };
}
