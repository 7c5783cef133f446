// Waiting, in one place: a sleep, and a poll that retries an attempt until
// it returns, bounded in count and in time (p-retry with a fixed interval).
import pRetry, { AbortError } from 'p-retry';
import { FollowmeError } from './errors.js';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface PollLimits {
  /** Give up after about this long (one last attempt is made at the deadline). */
  timeoutMs: number;
  intervalMs: number;
  /** At most this many attempts; by default as many as fit in the time. */
  attempts?: number;
}

/** The poll gave up: the last attempt's error says why it was not there yet. */
export class PollTimeoutError extends FollowmeError {
  override name = 'PollTimeoutError';
  constructor(
    readonly lastReason: string,
    readonly attempts: number,
    readonly elapsedMs: number,
    options?: { cause?: unknown },
  ) {
    super(`gave up after ${attempts} attempts in ${(elapsedMs / 1000).toFixed(1)} s: ${lastReason}`, options);
  }
}

/** Thrown by an attempt to say "not yet", with the reason. */
export class NotYet extends Error {
  override name = 'NotYet';
}

export interface PollHooks {
  /** An error for which this holds ends the wait at once (waiting cannot help). */
  isFatal?: (e: unknown) => boolean;
  /** Called after each attempt that was not there yet. */
  onWait?: (reason: string, attempt: number, elapsedMs: number) => void;
}

/**
 * Calls `attempt` until it returns; a throw means "not yet" (its message
 * is the reason). Resolves with the value, or rejects with PollTimeoutError
 * once the attempts or the time are used up.
 */
export async function poll<T>(
  attempt: () => Promise<T>,
  limits: PollLimits,
  hooks: PollHooks = {},
): Promise<{ value: T; elapsedMs: number; attempts: number }> {
  const started = performance.now();
  const interval = Math.max(0, limits.intervalMs);
  const attempts = limits.attempts ?? Math.max(1, Math.floor(limits.timeoutMs / Math.max(interval, 1)) + 1);
  let last: unknown;
  let made = 0;
  try {
    const value = await pRetry(
      async (n) => {
        made = n;
        try {
          return await attempt();
        } catch (e) {
          if (hooks.isFatal?.(e)) throw new AbortError(e instanceof Error ? e : new Error(String(e)));
          last = e;
          throw new NotYet(e instanceof Error ? e.message : String(e));
        }
      },
      {
        retries: attempts - 1,
        factor: 1,
        minTimeout: interval,
        maxTimeout: interval,
        maxRetryTime: limits.timeoutMs,
        onFailedAttempt: ({ error, attemptNumber }) => hooks.onWait?.(error.message, attemptNumber, performance.now() - started),
      },
    );
    return { value, elapsedMs: performance.now() - started, attempts: made };
  } catch (e) {
    if (e instanceof NotYet) throw new PollTimeoutError(e.message, made, performance.now() - started, { cause: last });
    throw e;
  }
}
