// POSIX shell quoting for argv sent over SSH (the remote side always runs a
// shell). Every argument is single-quoted, so input is never interpreted.

export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_\-./=:,@%+]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function commandLine(argv: readonly string[]): string {
  if (argv.length === 0) throw new Error('empty argv');
  return argv.map(shellQuote).join(' ');
}
