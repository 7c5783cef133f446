// The persistent remote shell: a command that times out drops its shell, and
// the next command gets a fresh one. The dropped shell may report its close
// much later (its bash waits on a process stuck on a stopped NFS server, say):
// that late close must not touch the command running on the new shell.
import { EventEmitter } from 'node:events';
import type { ClientChannel } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { RemoteShell } from '../../common/ssh/shell.js';

/** A channel to a fake bash: `answerAfterMs` undefined never answers; close() is reported only when the test says so. */
function fakeChannel(answerAfterMs: number | undefined) {
  const ch = new EventEmitter() as EventEmitter & { stderr: EventEmitter; setEncoding(): void; write(line: string): boolean; close(): void; end(): void };
  ch.stderr = new EventEmitter();
  (ch.stderr as unknown as { setEncoding(): void }).setEncoding = () => undefined;
  ch.setEncoding = () => undefined;
  ch.write = (line: string) => {
    const marker = /printf '\\n(@@fm-[0-9a-f]+) %s/.exec(line)?.[1];
    if (marker && answerAfterMs !== undefined)
      setTimeout(() => {
        ch.emit('data', `done\n${marker} 0 1.000 1.010\n`);
        ch.stderr.emit('data', `\n${marker}\n`);
      }, answerAfterMs);
    return true;
  };
  ch.close = () => undefined;
  ch.end = () => undefined;
  return ch;
}

describe('a remote shell dropped after a timeout', () => {
  it('closing late does not fail the command that runs on its replacement', async () => {
    const stuck = fakeChannel(undefined);
    const fresh = fakeChannel(150);
    const channels = [stuck, fresh];
    const shell = new RemoteShell('edge-a', async () => channels.shift() as unknown as ClientChannel);

    await expect(shell.run(['rm', '-rf', '/mnt/share/x'], 50)).rejects.toThrow(/timed out|did not finish/);
    const next = shell.run(['lxc-info', '-n', 'c1'], 5_000);
    // The stuck shell's close arrives while the next command runs on the fresh one.
    setTimeout(() => stuck.emit('close'), 30);
    const r = await next;
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('done');

    // Its own close still fails what runs on it.
    const third = shell.run(['sleep', '10'], 5_000);
    fresh.write = () => true;
    setTimeout(() => fresh.emit('close'), 20);
    await expect(third).rejects.toThrow('edge-a: the remote shell closed while a command ran');
  });
});
