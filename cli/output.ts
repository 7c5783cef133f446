// Where the CLI writes: progress lines on stderr, timestamped from the
// command's start, so stdout stays machine-readable (JSON or a path where a
// command prints data). runCli points both at the process's streams, or at
// a test's buffers when it runs the CLI in-process.

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: CliIo = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
};

let io: CliIo = processIo;
let started = Date.now();

export function useIo(next: CliIo): void {
  io = next;
  started = Date.now();
}

/** A progress line on stderr. */
export function log(line: string): void {
  const t = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  io.err(`[${t}s] ${line}\n`);
}

/** Data on stdout. */
export function print(text: string): void {
  io.out(text);
}

export function printError(text: string): void {
  io.err(text);
}
