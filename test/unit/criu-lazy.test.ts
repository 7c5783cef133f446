// The lazy migration's remote scripts, run here with stand-ins for CRIU: the
// launcher returns once the dump's page server listens, or with the dump's
// failure; the daemon's log is counted as the lazy window reads it.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { LAZY_LOG_COUNTS, lazyDumpLauncher, lazyFilesOf, lazyPagesProgressScript, parseLazyPagesProgress, waitLazyDump } from '../../migration/criu/lazy.js';

const run = promisify(execFile);

/** A free port on loopback, closed again. */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('the lazy dump launcher', () => {
  // A python stand-in and two shells: seconds on a loaded machine, beyond vitest's default 5 s.
  it('returns once the dump listens on its port, leaving it running with its pid written', { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fm-lazy-'));
    const port = await freePort();
    // Stands in for `criu dump --lazy-pages`: listens for 2 s, then exits.
    const dump = ['python3', '-c', `import socket,time; s=socket.socket(); s.bind(("127.0.0.1",${port})); s.listen(); time.sleep(2)`];
    const [sh, ...args] = lazyDumpLauncher(dump, lazyFilesOf(dir), port, 5_000);
    await run(sh!, args);
    const pid = Number(readFileSync(join(dir, 'lazy-dump.pid'), 'utf8'));
    expect(() => process.kill(pid, 0)).not.toThrow();
    // The wait sees it end; without CRIU's statistics the transfer did not succeed.
    const [wsh, ...wargs] = waitLazyDump(lazyFilesOf(dir));
    const waited = await run(wsh!, wargs).then(
      (r) => ({ code: 0, out: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
    );
    expect(waited.code).toBe(1);
    expect(Number(waited.out.trim())).toBeGreaterThanOrEqual(1_500);
    writeFileSync(join(dir, 'stats-dump'), '');
    expect((await run(wsh!, wargs)).stdout.trim()).toMatch(/^\d+$/);
  });

  it("fails with the dump's own exit status when it ends before listening", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fm-lazy-'));
    const port = await freePort();
    const [sh, ...args] = lazyDumpLauncher(['sh', '-c', 'exit 3'], lazyFilesOf(dir), port, 5_000);
    await expect(run(sh!, args)).rejects.toMatchObject({ code: 3, stderr: expect.stringContaining('before its page server listened') });
  });

  it('gives up after its bound when the dump never listens', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fm-lazy-'));
    const port = await freePort();
    const [sh, ...args] = lazyDumpLauncher(['sleep', '5'], lazyFilesOf(dir), port, 200);
    await expect(run(sh!, args)).rejects.toMatchObject({ code: 124 });
    execFileSync('sh', ['-c', `kill "$(cat "${join(dir, 'lazy-dump.pid')}")"`]);
  });
});

it("counts the lazy-pages daemon's pages, copies, faults and errors", () => {
  const log = [
    '(00.010) 77-5: Found 300 pages to be handled by UFFD',
    '(00.011) 78-6: Found 20 pages to be handled by UFFD',
    '(00.020) 77-5: #PF at 0x7f0000001000',
    '(00.021) 77-5: uffd_copy: 0x7f0000001000/4096',
    '(00.030) 77-5: uffd_copy: 0x7f0000010000/65536',
    '(00.031) 78-6: #PF at 0x7f0000002000',
    '(00.040) Error (criu/uffd.c:1200): 77-5: Error during UFFD copy',
  ].join('\n');
  const dir = mkdtempSync(join(tmpdir(), 'fm-lazy-'));
  writeFileSync(join(dir, 'lazy-pages.log'), log);
  expect(execFileSync('awk', [LAZY_LOG_COUNTS, join(dir, 'lazy-pages.log')]).toString()).toBe('320 17 2 1\n');
  // The whole read, as the lazy window runs it: the daemon (this process here) still running, then gone.
  const [cmd, ...args] = lazyPagesProgressScript(dir);
  writeFileSync(join(dir, 'lazy-pages.pid'), String(process.pid));
  expect(parseLazyPagesProgress(execFileSync(cmd!, args).toString())).toEqual({
    running: true,
    count: { pagesLazy: 320, pagesCopied: 17, faults: 2 },
    errors: 1,
  });
  writeFileSync(join(dir, 'lazy-pages.pid'), '999999999');
  expect(parseLazyPagesProgress(execFileSync(cmd!, args).toString())?.running).toBe(false);
  expect(parseLazyPagesProgress('running\n')).toBeUndefined();
});
