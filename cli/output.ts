// Progress lines for long work: timestamped from process start, on stderr so
// stdout stays machine-readable (JSON where a command prints data).
const started = Date.now();

export function log(line: string): void {
  const t = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[${t}s] ${line}\n`);
}
