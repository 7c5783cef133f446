// Runs a local command (virsh, debootstrap, xorriso, …) with execa: argv only,
// bounded in time, a failure becomes a CommandError carrying both streams.
import { execa } from 'execa';
import { CommandError } from './errors.js';

export interface LocalRun {
  stdout: string;
  durationMs: number;
}

export async function runLocal(
  argv: readonly string[],
  opts: { timeoutMs: number; input?: string; env?: Record<string, string>; host?: string },
): Promise<LocalRun> {
  const [cmd, ...args] = argv as [string, ...string[]];
  const started = Date.now();
  const r = await execa(cmd, args, {
    reject: false,
    timeout: opts.timeoutMs,
    all: true,
    env: { LC_ALL: 'C', ...opts.env },
    ...(opts.input !== undefined ? { input: opts.input } : { stdin: 'ignore' as const }),
  });
  const durationMs = Date.now() - started;
  if (r.exitCode !== 0 || r.timedOut) {
    throw new CommandError({
      host: opts.host ?? 'localhost',
      argv,
      exitCode: r.exitCode,
      // stderr first: it says why; stdout after it, as some tools (debootstrap) report there.
      stderr: [String(r.stderr ?? ''), String(r.stdout ?? '')].filter((x) => x.trim()).join('\n'),
      durationMs,
      timedOut: Boolean(r.timedOut),
    });
  }
  return { stdout: String(r.stdout ?? ''), durationMs };
}
