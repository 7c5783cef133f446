// SSH transport: one persistent ssh2 connection per node, commands as argv,
// host key pinned from the inventory (never trusted on first use), every
// command bounded in time.
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import ssh2 from 'ssh2';
import { CommandError, FollowmeError } from '../errors.js';
import { commandLine } from './quote.js';
import { RemoteShell } from './shell.js';

export interface SshTarget {
  node: string;
  host: string;
  port?: number;
  user: string;
  privateKeyPath: string;
  /** OpenSSH public key line of the node's host key ("ssh-ed25519 AAAA… comment"). */
  hostPublicKey: string;
  /** The VM's serial console log, named when the node stops answering (it may have died). */
  consoleLog?: string;
}

/** What to look at when a node stops answering. */
function deadNodeHint(target: SshTarget): string {
  return target.consoleLog ? `; if the VM died, its serial console log says why: ${target.consoleLog}` : '';
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Wall time on the controller, SSH channel set-up included. */
  durationMs: number;
  /** With `remoteTiming`: wall time on the node itself, from just before exec to just after exit. */
  remoteMs?: number;
  /** With `remoteTiming` or in the persistent shell: start and end on the node's clock, ms since the epoch. */
  remoteStartMs?: number;
  remoteEndMs?: number;
}

export interface RunOptions {
  timeoutMs?: number;
  /** stdin: text, or a stream (a file to copy to the node) piped into the command. */
  input?: string | Readable;
  /** Measure the command's own time on the node (bash's EPOCHREALTIME, no extra process). */
  remoteTiming?: boolean;
}

// Constant wrapper text; the command arrives as "$@", never interpolated.
const TIMING_MARK = '@@followme-timing';
const TIMING_WRAPPER = `s=$EPOCHREALTIME; "$@"; r=$?; e=$EPOCHREALTIME; printf '\\n${TIMING_MARK} %s %s\\n' "$s" "$e" >&2; exit $r`;

export function withRemoteTiming(argv: readonly string[]): string[] {
  return ['bash', '-c', TIMING_WRAPPER, 'followme-timed', ...argv];
}

/** Splits the timing line off stderr; returns the remote duration in ms. */
export function takeRemoteTiming(stderr: string): { stderr: string; remoteMs?: number; remoteStartMs?: number; remoteEndMs?: number } {
  const at = stderr.lastIndexOf(`\n${TIMING_MARK} `);
  if (at < 0) return { stderr };
  const m = new RegExp(`^${TIMING_MARK} ([0-9.]+) ([0-9.]+)`).exec(stderr.slice(at + 1));
  if (!m) return { stderr };
  const remoteStartMs = Number(m[1]) * 1000;
  const remoteEndMs = Number(m[2]) * 1000;
  return { stderr: stderr.slice(0, at), remoteMs: Math.max(0, remoteEndMs - remoteStartMs), remoteStartMs, remoteEndMs };
}

export class HostKeyMismatchError extends FollowmeError {
  override name = 'HostKeyMismatchError';
}

export const DEFAULT_COMMAND_TIMEOUT_MS = 120_000;

/** The key blob a server presents, as pinned: for comparison in hostVerifier. */
export function pinnedKeyBlob(publicKeyLine: string): Buffer {
  const parsed = ssh2.utils.parseKey(publicKeyLine);
  if (parsed instanceof Error) throw new FollowmeError(`not an SSH public key: ${parsed.message}`);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key) throw new FollowmeError('not an SSH public key');
  return key.getPublicSSH();
}

export class SshConnection {
  private shell: RemoteShell | undefined;
  /** Why the connection ended, once it has (keepalive unanswered, reset, closed by the node). */
  private lost: string | undefined;
  private closedByUs = false;

  private constructor(
    readonly target: SshTarget,
    private readonly client: ssh2.Client,
  ) {
    client.on('error', (e: Error) => {
      this.lost ??= e.message;
    });
    client.on('close', () => {
      if (!this.closedByUs) this.lost ??= 'closed by the node or the network';
    });
  }

  private lostError(): FollowmeError {
    return new FollowmeError(`${this.target.node} (${this.target.host}): the SSH connection was lost (${this.lost})${deadNodeHint(this.target)}`);
  }

  /** client.exec, with a lost connection named as such (ssh2 throws a bare "Not connected"). */
  private exec(command: string, onChannel: (channel: ssh2.ClientChannel) => void, reject: (e: Error) => void, what: string): void {
    if (this.lost) {
      reject(this.lostError());
      return;
    }
    try {
      this.client.exec(command, (err, channel) => {
        if (err) reject(this.lost ? this.lostError() : new FollowmeError(`${this.target.node}: ${what}: ${err.message}`, { cause: err }));
        else onChannel(channel);
      });
    } catch (err) {
      reject(this.lost ? this.lostError() : new FollowmeError(`${this.target.node}: ${what}: ${(err as Error).message}`, { cause: err }));
    }
  }

  private openChannel(command: string): Promise<ssh2.ClientChannel> {
    return new Promise((resolve, reject) => this.exec(command, resolve, reject, 'cannot open a channel'));
  }

  /**
   * Runs argv in this connection's persistent remote shell (see shell.ts):
   * much cheaper than run() per command, timed on the node, no stdin.
   */
  runInShell(
    argv: readonly string[],
    opts: { timeoutMs?: number; onStdout?: (chunk: string) => void } = {},
  ): Promise<ExecResult & { remoteMs: number; remoteStartMs: number; remoteEndMs: number }> {
    if (this.lost) return Promise.reject(this.lostError());
    this.shell ??= new RemoteShell(this.target.node, (cmd) => this.openChannel(cmd));
    // A shell that closed mid-command because the connection went is reported as the lost connection.
    return this.shell.run(argv, opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS, opts.onStdout).catch((e: unknown) => {
      throw this.lost ? this.lostError() : e;
    });
  }

  static connect(target: SshTarget, opts: { timeoutMs?: number } = {}): Promise<SshConnection> {
    const pinned = pinnedKeyBlob(target.hostPublicKey);
    let privateKey: Buffer;
    try {
      privateKey = readFileSync(target.privateKeyPath);
    } catch (cause) {
      return Promise.reject(
        new FollowmeError(
          `${target.node}: cannot read the private key ${target.privateKeyPath}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`,
          { cause },
        ),
      );
    }
    const client = new ssh2.Client();
    let mismatch = false;
    return new Promise((resolve, reject) => {
      client
        .on('ready', () => resolve(new SshConnection(target, client)))
        .on('error', (err) =>
          reject(
            mismatch
              ? new HostKeyMismatchError(`${target.node} (${target.host}): host key does not match the pinned key; refusing to connect`)
              : new FollowmeError(`${target.node} (${target.host}): SSH connection failed: ${err.message}${deadNodeHint(target)}`, { cause: err }),
          ),
        )
        .connect({
          host: target.host,
          port: target.port ?? 22,
          username: target.user,
          privateKey,
          readyTimeout: opts.timeoutMs ?? 20_000,
          keepaliveInterval: 10_000,
          hostVerifier: (key: Buffer) => {
            mismatch = !key.equals(pinned);
            return !mismatch;
          },
        });
    });
  }

  /** Connects, runs `fn` with the connection, and always closes it. */
  static async with<T>(target: SshTarget, fn: (c: SshConnection) => Promise<T>, opts: { timeoutMs?: number } = {}): Promise<T> {
    const c = await SshConnection.connect(target, opts);
    try {
      return await fn(c);
    } finally {
      c.close();
    }
  }

  /** Runs argv; resolves with exit code and output, never rejects on non-zero exit. */
  run(argv: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
    const line = commandLine(opts.remoteTiming ? withRemoteTiming(argv) : argv);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const started = Date.now();
    return new Promise((resolve, reject) => {
      this.exec(
        line,
        (channel) => {
          const out: Buffer[] = [];
          const errOut: Buffer[] = [];
          let exitCode: number | undefined;
          const timer = setTimeout(() => {
            channel.close();
            reject(
              new CommandError({
                host: this.target.node,
                argv,
                exitCode: undefined,
                stderr: Buffer.concat(errOut).toString('utf8'),
                durationMs: Date.now() - started,
                timedOut: true,
              }),
            );
          }, timeoutMs);
          channel.on('data', (d: Buffer) => out.push(d));
          channel.stderr.on('data', (d: Buffer) => errOut.push(d));
          channel.on('exit', (code: number | null) => {
            exitCode = code ?? 255;
          });
          channel.on('close', () => {
            clearTimeout(timer);
            const durationMs = Date.now() - started;
            const rawErr = Buffer.concat(errOut).toString('utf8');
            const timing = opts.remoteTiming ? takeRemoteTiming(rawErr) : { stderr: rawErr };
            resolve({
              exitCode: exitCode ?? 255,
              stdout: Buffer.concat(out).toString('utf8'),
              stderr: timing.stderr,
              durationMs,
              ...(timing.remoteMs !== undefined
                ? { remoteMs: Math.min(timing.remoteMs, durationMs), remoteStartMs: timing.remoteStartMs!, remoteEndMs: timing.remoteEndMs! }
                : {}),
            });
          });
          if (opts.input instanceof Readable) {
            opts.input.on('error', () => channel.close());
            opts.input.pipe(channel);
          } else if (opts.input !== undefined) channel.end(opts.input);
          else channel.end();
        },
        reject,
        `cannot start \`${line}\``,
      );
    });
  }

  /** Runs argv and throws CommandError unless it exits 0. */
  async check(argv: readonly string[], opts: RunOptions = {}): Promise<ExecResult> {
    const r = await this.run(argv, opts);
    if (r.exitCode !== 0) {
      throw new CommandError({
        host: this.target.node,
        argv,
        exitCode: r.exitCode,
        stderr: r.stderr || r.stdout,
        durationMs: r.durationMs,
        timedOut: false,
      });
    }
    return r;
  }

  /** Why the connection ended, or undefined while it is up. */
  get lostReason(): string | undefined {
    return this.lost;
  }

  /**
   * Cuts the connection as a failing network would (fault injection): no
   * orderly close, and every command on it, running or later, fails as lost.
   */
  sever(reason: string): void {
    this.lost ??= reason;
    this.shell?.close();
    this.client.destroy();
  }

  close(): void {
    this.closedByUs = true;
    this.shell?.close();
    this.client.end();
  }
}
