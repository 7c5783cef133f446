// The service probe and the video player against real HTTP servers on
// loopback that stop answering for a while, as a migrating container does.
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { sleep } from '../../common/poll.js';
import { gapAround, longestGap, MAX_IN_FLIGHT, startProbe, whenOnProbeClock } from '../../experiment/probe.js';
import { startCounterClient } from '../../workloads/counter-client.js';
import { startProgressiveClient } from '../../workloads/progressive-client.js';
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

  it("whenOnProbeClock places an event against the run's marks", () => {
    const marks = { migrate: 2000, 'psi-start': 6500, freeze: 30_000, migrated: 38_040, 'client-error': 41_230 };
    expect(whenOnProbeClock(marks, 'client-error')).toBe(' (at 41.2 s of the run; migrate 2.0 s, psi-start 6.5 s, freeze 30.0 s, migrated 38.0 s)');
    expect(whenOnProbeClock(marks, 'nothing')).toBe('');
  });

  it('gapAround: the silence that holds a moment (the freeze), not the longest one', () => {
    expect(gapAround([10, 20, 30, 530, 540, 900, 2000], 600, 2100)).toBe(360);
    expect(gapAround([10, 20], 600, 2100)).toBe(2080);
  });
});

const report0 = (p: { marks(): Readonly<Record<string, number>> }) => p.marks()['migrate']!;

describe('the service probe', () => {
  it('sees a service that stops answering for 600 ms as a gap of about that long, with answers before and after', async () => {
    let frozen = false;
    const port = await listen(
      createServer((_req, res) => {
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
    probe.markAt('freeze', report0(probe) + 300);
    expect(await probe.answersAfter(10, 5000)).toBe(true);
    const { report, timeline } = await probe.stop();
    expect(report.freezeGapMs).toBeCloseTo(report.longestGapMs, 0);
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

  it(`keeps at most ${MAX_IN_FLIGHT} requests pending: a slow service is asked as fast as it answers`, async () => {
    let pending = 0;
    let most = 0;
    const port = await listen(
      createServer((_req, res) => {
        pending++;
        most = Math.max(most, pending);
        setTimeout(() => {
          pending--;
          res.end('ok');
        }, 200);
      }),
    );
    const probe = startProbe({ ip: '127.0.0.1', port, path: '/', intervalMs: 10, timeoutMs: 1000, maxMs: 10_000 });
    await sleep(1000);
    const { report } = await probe.stop();
    expect(most).toBeLessThanOrEqual(MAX_IN_FLIGHT);
    expect(report.skipped).toBeGreaterThan(0);
    // About MAX_IN_FLIGHT answers per 200 ms.
    expect(report.answered).toBeGreaterThan(MAX_IN_FLIGHT * 2);
    expect(report.longestGapMs).toBeLessThan(600);
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
  // A 400 kB "video" of 4 s: 100 kB/s, fetched in half-second segments. No two neighbouring bytes alike, so a skip shows.
  const video = Buffer.from(Array.from({ length: 400_000 }, (_, i) => (i * 7 + (i >> 8)) & 0xff));

  /** Serves byte ranges of the video (206), holding every answer while `quiet()` says so (a frozen container). */
  function rangeServer(quiet: () => boolean, sockets: Set<Socket>): Server {
    const server = createServer((req, res) => {
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (!m) {
        res.statusCode = 416;
        return void res.end();
      }
      const answer = () => {
        if (quiet()) return void setTimeout(answer, 20);
        const body = video.subarray(Number(m[1]), Number(m[2]) + 1);
        res.writeHead(206, { 'Content-Length': body.length, 'Content-Range': `bytes ${m[1]}-${m[2]}/${video.length}` });
        res.end(body);
      };
      answer();
    });
    server.on('connection', (s) => sockets.add(s));
    return server;
  }

  it('fetches segments over one keep-alive connection (playing the file again at its end), and records a stall when the server goes quiet', async () => {
    let quietUntil = 0;
    const sockets = new Set<Socket>();
    const port = await listen(rangeServer(() => Date.now() < quietUntil, sockets));
    const player = startPlayer({
      ip: '127.0.0.1',
      port,
      path: '/v.mp4',
      file: video,
      durationS: 4,
      maxMs: 20_000,
      bufferS: 1,
      startupS: 0.3,
      resumeS: 0.2,
    });
    await sleep(2000);
    quietUntil = Date.now() + 2500;
    await sleep(5000);
    const r = await player.stop();
    expect(r.error).toBeUndefined();
    expect(r.connections).toBe(1);
    expect(sockets.size).toBe(1);
    // 7 s of playing at 100 kB/s with a 2.5 s pause: past the 4 s file and on from its start, in 0.5 s segments.
    expect(r.bytes).toBeGreaterThan(400_000);
    expect(r.verifiedBytes).toBe(r.bytes);
    expect(r.requests).toBeGreaterThan(8);
    // 2.5 s quiet with at most 1 s buffered: one stall of about 1.5 s.
    expect(r.stalls).toHaveLength(1);
    expect(r.longestStallMs).toBeGreaterThan(1000);
    expect(r.longestStallMs).toBeLessThan(2500);
  }, 15_000);

  it('reports a connection the server drops', async () => {
    const port = await listen(
      createServer((_req, res) => {
        res.writeHead(206, { 'Content-Length': 50_000 });
        res.write(video.subarray(0, 10_000));
        setTimeout(() => res.socket?.destroy(), 300);
      }),
    );
    const player = startPlayer({ ip: '127.0.0.1', port, path: '/v.mp4', file: video, durationS: 4, maxMs: 5000 });
    await sleep(800);
    const r = await player.stop();
    expect(r.error).toMatch(/closed|aborted|socket hang up/);
    // When it broke, from the player's start: the server cut it 300 ms into the first answer.
    expect(r.errorAtMs).toBeGreaterThanOrEqual(250);
    expect(r.errorAtMs).toBeLessThan(800);
  });
});

describe('content checks (issue #20: a stream that changed bytes is not a stream that went on)', () => {
  const video = Buffer.from(Array.from({ length: 400_000 }, (_, i) => (i * 7 + (i >> 8)) & 0xff));

  it('the segment player names the first wrong byte of a segment', async () => {
    const port = await listen(
      createServer((req, res) => {
        const [from, to] = /^bytes=(\d+)-(\d+)$/
          .exec(req.headers.range ?? '')!
          .slice(1)
          .map(Number) as [number, number];
        const body = Buffer.from(video.subarray(from, to + 1));
        if (from > 0) body[100] = (body[100]! + 1) & 0xff;
        res.writeHead(206, { 'Content-Length': body.length });
        res.end(body);
      }),
    );
    const player = startPlayer({ ip: '127.0.0.1', port, path: '/v.mp4', file: video, durationS: 4, maxMs: 5000, bufferS: 2 });
    await sleep(1500);
    const r = await player.stop();
    expect(r.error).toMatch(/^segment 50000-99999: byte 50100 of \/v\.mp4 is 0x[0-9a-f]{2}, not 0x[0-9a-f]{2}/);
    expect(r.verifiedBytes).toBe(50_000);
  }, 20_000);

  it('the progressive download reads one GET at the bit rate, keeps the server blocked on a full socket, and checks every byte', async () => {
    let blocked = false;
    const port = await listen(
      createServer((_req, res) => {
        res.writeHead(200, { 'Content-Length': video.length });
        // Written whole: the kernel and Node take what the reader's window allows; the rest waits on the server.
        blocked = !res.write(video);
        res.end();
      }),
    );
    const client = startProgressiveClient({ ip: '127.0.0.1', port, path: '/v.mp4', file: video, durationS: 4, maxMs: 10_000 });
    await sleep(1500);
    const r = await client.stop();
    expect(r.error).toBeUndefined();
    expect(blocked).toBe(true);
    expect(r.connections).toBe(1);
    expect(r.requests).toBe(1);
    // About 1.5 s of a 100 kB/s video, not the whole file the server had sent on its way.
    expect(r.bytes).toBeGreaterThan(50_000);
    expect(r.bytes).toBeLessThan(300_000);
    expect(r.verifiedBytes).toBe(r.bytes);
  }, 20_000);

  it('the progressive download catches a stream that skipped data, and one the server cut', async () => {
    const skipping = await listen(
      createServer((_req, res) => {
        res.writeHead(200, { 'Content-Length': video.length });
        // 1,000 bytes left out at 20,000, the length kept: only a content check can tell.
        res.end(Buffer.concat([video.subarray(0, 20_000), video.subarray(21_000), video.subarray(0, 1000)]));
      }),
    );
    const a = startProgressiveClient({ ip: '127.0.0.1', port: skipping, path: '/v.mp4', file: video, durationS: 0.5, maxMs: 5000 });
    await sleep(800);
    expect((await a.stop()).error).toMatch(/^byte 20000 of \/v\.mp4 is .*skipped, repeated or changed/);

    const cutting = await listen(
      createServer((_req, res) => {
        res.writeHead(200, { 'Content-Length': video.length });
        res.write(video.subarray(0, 30_000));
        setTimeout(() => res.socket?.destroy(), 200);
      }),
    );
    const b = startProgressiveClient({ ip: '127.0.0.1', port: cutting, path: '/v.mp4', file: video, durationS: 0.5, maxMs: 5000 });
    await sleep(800);
    const rb = await b.stop();
    expect(rb.error).toMatch(/closed|aborted/);
    expect(rb.verifiedBytes).toBe(30_000);
  }, 20_000);
});

describe('the counter watcher (blank, memory)', () => {
  it('a count that goes back is an error (a restarted container counts from 1)', async () => {
    const values = [5, 6, 7, 2, 3];
    const client = startCounterClient({ read: async () => values.shift() ?? 3, intervalMs: 10, stallAfterMs: 10_000, maxMs: 10_000, kind: 'counter' });
    await sleep(150);
    expect((await client.stop()).error).toMatch(/^the count went back from 7 to 2/);
  }, 20_000);

  it('records a stall while the counter does not grow, and none while it does', async () => {
    let n = 0;
    let frozenUntil = 0;
    const grow = setInterval(() => {
      if (Date.now() >= frozenUntil) n++;
    }, 20);
    try {
      const client = startCounterClient({ read: async () => n, intervalMs: 20, stallAfterMs: 200, maxMs: 10_000, kind: 'counter' });
      await sleep(400);
      frozenUntil = Date.now() + 700;
      await sleep(1200);
      const r = await client.stop();
      expect(r.error).toBeUndefined();
      expect(r.stalls).toHaveLength(1);
      expect(r.longestStallMs).toBeGreaterThan(600);
      expect(r.longestStallMs).toBeLessThan(1000);
    } finally {
      clearInterval(grow);
    }
  });

  it('a counter that never answers is an error, not a stall-free run', async () => {
    const client = startCounterClient({
      read: () => Promise.reject(new Error('no answer')),
      intervalMs: 20,
      stallAfterMs: 200,
      maxMs: 10_000,
      kind: 'counter',
    });
    await sleep(100);
    expect((await client.stop()).error).toMatch(/never answered/);
  });
});
