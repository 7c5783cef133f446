// The service probe and the video player against real HTTP servers on
// loopback that stop answering for a while, as a migrating container does.
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { sleep } from '../../common/poll.js';
import { longestGap, startProbe } from '../../experiment/probe.js';
import { startPlayer } from '../../workloads/video-client.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function listen(s: Server): Promise<number> {
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as AddressInfo).port;
}

describe('longestGap', () => {
  it('is the longest stretch between answers, from the start to the end', () => {
    expect(longestGap([10, 20, 30, 530, 540], 560)).toEqual({ ms: 500, from: 30, to: 530 });
    expect(longestGap([], 300)).toEqual({ ms: 300, from: 0, to: 300 });
    expect(longestGap([5, 10], 900)).toEqual({ ms: 890, from: 10, to: 900 });
  });
});

describe('the service probe', () => {
  it('sees a service that stops answering for 600 ms as a gap of about that long, with answers before and after', async () => {
    let frozen = false;
    const port = await listen(
      createServer((req, res) => {
        // A frozen container: the request is held, never answered (the probe's timeout ends it).
        if (frozen) return;
        res.end('1\n');
      }),
    );
    const probe = startProbe({ ip: '127.0.0.1', port, path: '/count', intervalMs: 10, timeoutMs: 200, maxMs: 20_000 });
    expect(await probe.answersAfter(10, 5000)).toBe(true);
    probe.mark('migrate');
    frozen = true;
    await sleep(600);
    frozen = false;
    probe.mark('migrated');
    expect(await probe.answersAfter(10, 5000)).toBe(true);
    const { report, timeline } = await probe.stop();
    expect(report.longestGapMs).toBeGreaterThanOrEqual(550);
    expect(report.longestGapMs).toBeLessThan(1500);
    expect(report.gapFromMs).toBeGreaterThanOrEqual(report.marks['migrate']! - 50);
    expect(report.answeredBefore).toBeGreaterThanOrEqual(10);
    expect(report.answeredAfter).toBeGreaterThanOrEqual(10);
    expect(report.sent).toBe(timeline.sentMs.length);
    expect(timeline.latencyMs.filter((l) => l >= 0)).toHaveLength(report.answered);
  });

  it('is bounded: it stops by itself after maxMs, having sent at most maxMs / intervalMs requests', async () => {
    const port = await listen(createServer((_req, res) => res.end('ok')));
    const probe = startProbe({ ip: '127.0.0.1', port, path: '/', intervalMs: 10, timeoutMs: 100, maxMs: 300 });
    await sleep(700);
    const { report } = await probe.stop();
    expect(report.sent).toBeLessThanOrEqual(30);
    expect(report.sent).toBeGreaterThan(0);
  });

  it('counts only 200 answers: a service answering 503 is down', async () => {
    const port = await listen(
      createServer((_req, res) => {
        res.statusCode = 503;
        res.end();
      }),
    );
    const probe = startProbe({ ip: '127.0.0.1', port, path: '/', intervalMs: 10, timeoutMs: 100, maxMs: 5000 });
    expect(await probe.answersAfter(1, 300)).toBe(false);
    const { report } = await probe.stop();
    expect(report.answered).toBe(0);
    expect(report.longestGapMs).toBeCloseTo(report.ranMs, 0);
  });
});

describe('the video player', () => {
  // A 2 MB "video" of 2 s: 1 MB/s, so that the sockets' own buffers (a few hundred kB on loopback) hold well under the silence below.
  const video = Buffer.alloc(2_000_000, 7);

  it('plays over one keep-alive connection (again and again), and records a stall when the server goes quiet', async () => {
    let quietUntil = 0;
    const sockets = new Set<Socket>();
    // The server sends at 1.2× the video's rate (a paced origin), so the kernel's buffers never hold seconds of video.
    const server = createServer((_req, res) => {
      res.setHeader('Content-Length', video.length);
      let at = 0;
      const pump = () => {
        if (at >= video.length) return res.end();
        if (Date.now() >= quietUntil) {
          res.write(video.subarray(at, at + 60_000));
          at += 60_000;
        }
        setTimeout(pump, 50);
      };
      pump();
    });
    server.on('connection', (s) => sockets.add(s));
    const port = await listen(server);
    const player = startPlayer({
      ip: '127.0.0.1',
      port,
      path: '/v.mp4',
      bytes: video.length,
      durationS: 2,
      maxMs: 20_000,
      bufferS: 0.5,
      startupS: 0.2,
      resumeS: 0.1,
    });
    await sleep(1000);
    quietUntil = Date.now() + 2500;
    await sleep(5000);
    const r = await player.stop();
    expect(r.error).toBeUndefined();
    expect(r.connections).toBe(1);
    expect(sockets.size).toBe(1);
    expect(r.requests).toBeGreaterThanOrEqual(2); // played through the 2 s video and went on, on the same connection
    expect(r.stalls.length).toBeGreaterThanOrEqual(1);
    // 2.5 s quiet with 0.5 s in the player's buffer, and whatever the sockets' buffers held on top: a stall, shorter than the silence.
    expect(r.longestStallMs).toBeGreaterThan(300);
    expect(r.longestStallMs).toBeLessThan(2500);
  }, 15_000);

  it('reports a connection the server drops', async () => {
    const port = await listen(
      createServer((_req, res) => {
        res.setHeader('Content-Length', video.length);
        res.write(video.subarray(0, 10_000));
        setTimeout(() => res.socket?.destroy(), 300);
      }),
    );
    const player = startPlayer({ ip: '127.0.0.1', port, path: '/v.mp4', bytes: video.length, durationS: 2, maxMs: 5000 });
    await sleep(800);
    const r = await player.stop();
    expect(r.error).toMatch(/closed|aborted|socket hang up/);
  });
});
