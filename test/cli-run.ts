// Runs the followme CLI in this process (cli/program.ts runCli) and captures
// what it writes: fast enough for property tests, and the exit code is the
// one cli/main.ts would give the process.
import { runCli } from '../cli/program.js';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

export async function cli(args: readonly string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (t) => void out.push(t), err: (t) => void err.push(t) });
  return { code, out: out.join(''), err: err.join('') };
}

/** A stack trace line, as Node prints them. */
export const STACK_TRACE = /\n\s+at .*\(?.*:\d+:\d+\)?/;
