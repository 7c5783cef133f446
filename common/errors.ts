// One error family for the whole product. The CLI maps these to exit codes;
// only FollowmeError subclasses are "expected" and printed without a stack.

export class FollowmeError extends Error {
  override name = 'FollowmeError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Bad input from the user: config file, CLI flag, inventory. Nothing was changed. */
export class ConfigError extends FollowmeError {
  override name = 'ConfigError';
  constructor(
    message: string,
    readonly key?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A container's in-memory state is gone for good: its only copy was in the
 * tmpfs of a VM that went down (diskless keeps the final dump's pages on the
 * destination alone). Said plainly; nothing retries it.
 */
export class StateLostError extends FollowmeError {
  override name = 'StateLostError';
}

/** A libvirt object exists with our name but another spec: we never overwrite it. */
export class ConflictError extends FollowmeError {
  override name = 'ConflictError';
}

export interface CommandFailure {
  host: string;
  argv: readonly string[];
  exitCode: number | undefined;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
}

/** A command (local virsh or remote over SSH) exited non-zero or timed out. */
export class CommandError extends FollowmeError {
  override name = 'CommandError';
  readonly host: string;
  readonly argv: readonly string[];
  readonly exitCode: number | undefined;
  readonly stderr: string;
  readonly durationMs: number;
  readonly timedOut: boolean;
  constructor(f: CommandFailure, options?: { cause?: unknown }) {
    const what = f.timedOut ? `timed out after ${f.durationMs} ms` : `exited with ${f.exitCode}`;
    const tail = f.stderr.trim().split('\n').slice(-5).join('\n');
    super(`${f.host}: \`${f.argv.join(' ')}\` ${what}${tail ? `:\n${tail}` : ''}`, options);
    this.host = f.host;
    this.argv = f.argv;
    this.exitCode = f.exitCode;
    this.stderr = f.stderr;
    this.durationMs = f.durationMs;
    this.timedOut = f.timedOut;
  }
}

/** A readiness stage did not pass in time. Names the VM, the stage and where to look. */
export class ReadinessTimeoutError extends FollowmeError {
  override name = 'ReadinessTimeoutError';
  constructor(
    readonly node: string,
    readonly stage: string,
    readonly consoleLog: string,
    readonly lastError: string,
    timeoutMs: number,
  ) {
    super(
      `${node}: stage "${stage}" did not pass within ${Math.round(timeoutMs / 1000)} s` +
        (lastError ? ` (last error: ${lastError})` : '') +
        `; serial console log: ${consoleLog}`,
    );
  }
}
