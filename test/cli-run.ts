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
  let out = '';
  let err = '';
  const code = await runCli(args, { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

/** A stack trace line, as Node prints them. */
export const STACK_TRACE = /\n\s+at .*\(?.*:\d+:\d+\)?/;
