// A persistent bash on a node, fed one command line at a time over a single
// SSH channel. Opening an exec channel costs about 100 ms on a TCG guest
// (sshd sets up a session and starts a shell); a line to a running bash costs
// about 10 ms. The migration engine runs dozens of short commands, so this is
// most of its overhead. Commands are still argv, quoted by commandLine; each
// result is framed by a per-command random marker on stdout and on stderr.
import { randomBytes } from 'node:crypto';
import type { ClientChannel } from 'ssh2';
import { CommandError, FollowmeError } from '../errors.js';
import { commandLine } from './quote.js';

export interface ShellResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
  remoteMs: number;
  /** Start and end on the node's clock (ms since the epoch). */
  remoteStartMs: number;
  remoteEndMs: number;
}

type Framed = { exitCode: number; stdout: string; stderr: string; remoteMs: number; remoteStartMs: number; remoteEndMs: number };

interface Pending {
  marker: string;
  /** Streams stdout as it arrives (long commands: progress). */
  onStdout?: (chunk: string) => void;
  out: string;
  err: string;
  resolve(r: Framed): void;
  reject(e: Error): void;
}

/** The line bash runs for one command: time it, run it with no stdin, frame its output. */
export function framedLine(argv: readonly string[], marker: string): string {
  return `s=$EPOCHREALTIME; ${commandLine(argv)} </dev/null; r=$?; e=$EPOCHREALTIME; printf '\\n${marker} %s %s %s\\n' "$r" "$s" "$e"; printf '\\n${marker}\\n' >&2\n`;
}

/** Splits a framed result off the accumulated streams, or undefined if not complete yet. */
export function parseFramed(out: string, err: string, marker: string): Framed | undefined {
  const outAt = out.indexOf(`\n${marker} `);
  const errAt = err.indexOf(`\n${marker}\n`);
  if (outAt < 0 || errAt < 0) return undefined;
  const m = new RegExp(`^\\n${marker} (\\d+) ([0-9.]+) ([0-9.]+)\\n`).exec(out.slice(outAt));
  if (!m) return undefined;
  const remoteStartMs = Number(m[2]) * 1000;
  const remoteEndMs = Number(m[3]) * 1000;
  return {
    exitCode: Number(m[1]),
    stdout: out.slice(0, outAt),
    stderr: err.slice(0, errAt),
    remoteMs: Math.max(0, remoteEndMs - remoteStartMs),
    remoteStartMs,
    remoteEndMs,
  };
}

export class RemoteShell {
  private channel: ClientChannel | undefined;
  private opening: Promise<ClientChannel> | undefined;
  private pending: Pending | undefined;
  /** One command at a time: each waits for the one before. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly node: string,
    private readonly openChannel: (command: string) => Promise<ClientChannel>,
  ) {}

  private async ensure(): Promise<ClientChannel> {
    if (this.channel) return this.channel;
    this.opening ??= this.openChannel('exec bash --noprofile --norc').then((ch) => {
      ch.setEncoding('utf8');
      ch.stderr.setEncoding('utf8');
      ch.on('data', (d: string) => this.feed(d, ''));
      ch.stderr.on('data', (d: string) => this.feed('', d));
      ch.on('close', () => {
        // A shell dropped after a timeout may report its close long after (its bash waits on a process stuck in the
        // kernel): by then a fresh shell runs the next command, and this close is none of its business.
        if (this.channel !== ch) return;
        this.channel = undefined;
        this.opening = undefined;
        this.pending?.reject(new FollowmeError(`${this.node}: the remote shell closed while a command ran`));
        this.pending = undefined;
      });
      this.channel = ch;
      return ch;
    });
    try {
      return await this.opening;
    } catch (e) {
      this.opening = undefined;
      throw e;
    }
  }

  private feed(out: string, err: string): void {
    const p = this.pending;
    if (!p) return;
    p.out += out;
    p.err += err;
    if (out && p.onStdout) p.onStdout(out);
    const r = parseFramed(p.out, p.err, p.marker);
    if (r) {
      this.pending = undefined;
      p.resolve(r);
    }
  }

  run(argv: readonly string[], timeoutMs: number, onStdout?: (chunk: string) => void): Promise<ShellResult> {
    const next = this.queue.then(() => this.runNow(argv, timeoutMs, onStdout));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async runNow(argv: readonly string[], timeoutMs: number, onStdout?: (chunk: string) => void): Promise<ShellResult> {
    const ch = await this.ensure();
    const marker = `@@fm-${randomBytes(8).toString('hex')}`;
    const started = performance.now();
    const r = await new Promise<Framed>((resolve, reject) => {
      const timer = setTimeout(() => {
        const p = this.pending;
        this.pending = undefined;
        // The command may hang on: drop this shell, the next command gets a new one.
        ch.close();
        this.channel = undefined;
        this.opening = undefined;
        reject(new CommandError({ host: this.node, argv, exitCode: undefined, stderr: p?.err ?? '', durationMs: performance.now() - started, timedOut: true }));
      }, timeoutMs);
      this.pending = {
        marker,
        ...(onStdout ? { onStdout } : {}),
        out: '',
        err: '',
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      ch.write(framedLine(argv, marker));
    });
    const durationMs = performance.now() - started;
    return { ...r, durationMs, remoteMs: Math.min(r.remoteMs, durationMs) };
  }

  close(): void {
    this.channel?.end('exit\n');
    this.channel = undefined;
  }
}
