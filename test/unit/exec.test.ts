import { describe, expect, it } from 'vitest';
import { runLocal } from '../../common/exec.js';
import { CommandError } from '../../common/errors.js';

describe('local commands', () => {
  it('returns stdout of a command that succeeds', async () => {
    expect((await runLocal(['sh', '-c', 'echo hello'], { timeoutMs: 10_000 })).stdout).toBe('hello');
  });

  it('turns a failure into a CommandError with exit code, argv and both streams', async () => {
    const e = await runLocal(['sh', '-c', 'echo on-stdout; echo on-stderr >&2; exit 3'], { timeoutMs: 10_000, host: 'h1' }).catch((x) => x);
    expect(e).toBeInstanceOf(CommandError);
    expect(e.exitCode).toBe(3);
    expect(e.host).toBe('h1');
    expect(e.argv).toEqual(['sh', '-c', 'echo on-stdout; echo on-stderr >&2; exit 3']);
    expect(e.stderr).toBe('on-stderr\non-stdout');
    expect(e.message).toMatch(/^h1: `sh -c .*` exited with 3:\n/);
  });

  it('bounds a command in time', async () => {
    const e = await runLocal(['sleep', '5'], { timeoutMs: 200 }).catch((x) => x);
    expect(e).toBeInstanceOf(CommandError);
    expect(e.timedOut).toBe(true);
    expect(e.message).toContain('timed out');
  });
});
