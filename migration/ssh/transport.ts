// SSH transport: one persistent ssh2 connection per node, commands as argv,
// host key pinned from the inventory (never trusted on first use), every
// command bounded in time.
import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import { CommandError, FollowmeError } from '../../provision/errors.js';
import { commandLine } from './quote.js';

export interface SshTarget {
  node: string;
  host: string;
  port?: number;
  user: string;
  privateKeyPath: string;
  /** OpenSSH public key line of the node's host key ("ssh-ed25519 AAAA… comment"). */
  hostPublicKey: string;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
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
  private constructor(
    readonly target: SshTarget,
    private readonly client: ssh2.Client,
  ) {}

  static connect(target: SshTarget, opts: { timeoutMs?: number } = {}): Promise<SshConnection> {
    const pinned = pinnedKeyBlob(target.hostPublicKey);
    const client = new ssh2.Client();
    let mismatch = false;
    return new Promise((resolve, reject) => {
      client
        .on('ready', () => resolve(new SshConnection(target, client)))
        .on('error', (err) =>
          reject(
            mismatch
              ? new HostKeyMismatchError(`${target.node} (${target.host}): host key does not match the pinned key; refusing to connect`)
              : new FollowmeError(`${target.node} (${target.host}): SSH connection failed: ${err.message}`, { cause: err }),
          ),
        )
        .connect({
          host: target.host,
          port: target.port ?? 22,
          username: target.user,
          privateKey: readFileSync(target.privateKeyPath),
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
  run(argv: readonly string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
    const line = commandLine(argv);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const started = Date.now();
    return new Promise((resolve, reject) => {
      this.client.exec(line, (err, channel) => {
        if (err) {
          reject(new FollowmeError(`${this.target.node}: cannot start \`${line}\`: ${err.message}`, { cause: err }));
          return;
        }
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
          resolve({
            exitCode: exitCode ?? 255,
            stdout: Buffer.concat(out).toString('utf8'),
            stderr: Buffer.concat(errOut).toString('utf8'),
            durationMs: Date.now() - started,
          });
        });
        if (opts.input !== undefined) channel.end(opts.input);
        else channel.end();
      });
    });
  }

  /** Runs argv and throws CommandError unless it exits 0. */
  async check(argv: readonly string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
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

  close(): void {
    this.client.end();
  }
}
