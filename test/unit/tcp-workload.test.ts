// The tcp workload's two ends, run here on loopback: the real streams.py
// (python3, as in the container) and the controller's client. Both streams
// stay full and every byte is checked at both ends; a server that skips a
// byte, or a client that sends a wrong one, is caught by the other end.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { projectRoot } from '../../common/paths.js';
import { NotYet, poll, sleep } from '../../common/poll.js';
import { patternBytes } from '../../workloads/stream-pattern.js';
import { startTcpClient } from '../../workloads/tcp-client.js';
import { parseTcpState } from '../../workloads/tcp.js';
import { scratchDir } from '../scratch.js';

const STREAMS = join(projectRoot(), 'workloads/guest/tcp/streams.py');
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

async function freePortBase(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  // streams.py listens on base + 1 and base + 2.
  return port - 1;
}

async function startStreams(): Promise<{ base: number; state: () => string }> {
  const base = await freePortBase();
  const state = join(scratchDir('fm-tcp-'), 'state');
  const child = spawn('python3', [STREAMS, state, String(base)], { stdio: 'ignore' });
  children.push(child);
  await poll(
    async () => {
      try {
        readFileSync(state, 'utf8');
      } catch {
        throw new NotYet('no state yet');
      }
    },
    { timeoutMs: 10_000, intervalMs: 50 },
  );
  return { base, state: () => readFileSync(state, 'utf8') };
}

describe('the pattern', () => {
  it('is the same in streams.py and here, at any offset', async () => {
    for (const [offset, length] of [
      [0, 64],
      [5, 20],
      [8 * 2 ** 32 - 3, 11],
      [1_000_003, 4096],
    ] as const) {
      const r = spawn('python3', [STREAMS, '--pattern', String(offset), String(length)]);
      const out: Buffer[] = [];
      r.stdout.on('data', (d: Buffer) => out.push(d));
      await new Promise<void>((resolve) => r.on('close', () => resolve()));
      expect(Buffer.concat(out).equals(patternBytes(offset, length)), `offset ${offset}`).toBe(true);
    }
  });
});

describe('the tcp workload on loopback', () => {
  it('keeps both streams going, every byte checked at both ends', async () => {
    const s = await startStreams();
    const client = startTcpClient({ ip: '127.0.0.1', basePort: s.base, readBytesPerS: 200_000, maxMs: 10_000 });
    await sleep(2500);
    const r = await client.stop();
    expect(r.error).toBeUndefined();
    // About 2.5 s at 200 kB/s on each of the two streams.
    expect(r.verifiedBytes).toBeGreaterThan(500_000);
    await sleep(1100);
    const state = parseTcpState(s.state());
    expect(state.intact).toBe(true);
    expect(state.text).toMatch(/every byte as sent/);
    // The server sent far more than was read: its queue and this side's window were full.
    const [, sent, received] = s.state().split(' ').map(Number);
    expect(sent).toBeGreaterThan(r.verifiedBytes! / 2);
    expect(received).toBeGreaterThan(0);
  }, 20_000);

  it('the server catches a wrong byte from the client, and says where', async () => {
    const s = await startStreams();
    const { connect } = await import('node:net');
    const sock = connect({ host: '127.0.0.1', port: s.base + 2 });
    const bad = Buffer.from(patternBytes(0, 1000));
    bad[777] = 0xff;
    sock.write(bad);
    await sleep(1500);
    sock.destroy();
    expect(parseTcpState(s.state())).toMatchObject({ intact: false, text: expect.stringMatching(/differs from the pattern at byte 777/) });
  }, 20_000);

  it('the client catches a source that skipped data', async () => {
    const server = createServer((sock) => {
      sock.on('error', () => undefined);
      sock.write(Buffer.concat([patternBytes(0, 5000), patternBytes(6000, 5000)]));
    });
    server.on('error', () => undefined);
    const base = await freePortBase();
    await new Promise<void>((r) => server.listen(base + 1, '127.0.0.1', r));
    const echo = createServer((sock) => {
      sock.on('error', () => undefined);
      sock.pipe(sock);
    });
    await new Promise<void>((r) => echo.listen(base + 2, '127.0.0.1', r));
    try {
      const client = startTcpClient({ ip: '127.0.0.1', basePort: base, readBytesPerS: 100_000, maxMs: 5000 });
      await sleep(600);
      expect((await client.stop()).error).toMatch(/^source: byte 500[0-7] of the pattern is 0x[0-9a-f]{2}, not 0x[0-9a-f]{2}/);
    } finally {
      server.close();
      echo.close();
    }
  }, 20_000);
});
