// The engine's clock: it stops while a listener runs and while a fault is
// put in, so neither counts in Ψ or in a phase. It also keeps what the
// record says of listeners (their time, what they threw) and of dumps tried
// a second time.
import type { EventListener, MigrationEvent } from './types.js';

export class EngineClock {
  private pausedMs = 0;
  listenerMs = 0;
  readonly listenerErrors: string[] = [];
  /** A dump that failed once and was tried again: its phase took longer than a clean one, and the record says so. */
  readonly retries: { phase: string; error: string }[] = [];

  constructor(private readonly listener?: EventListener) {}

  /** performance.now() less every pause so far. */
  now(): number {
    return performance.now() - this.pausedMs;
  }

  /** A wall-clock instant (performance.now()) on this clock, given that no pause falls between it and now. */
  fromWall(wallMs: number): number {
    return wallMs - this.pausedMs;
  }

  /**
   * Hands an event to the listener, awaited, with the clock stopped (a
   * test may act at a step); what it throws is kept, never raised.
   */
  async emit(e: MigrationEvent): Promise<void> {
    if (e.type === 'retry') this.retries.push({ phase: e.phase, error: e.error.split('\n')[0]!.slice(0, 500) });
    if (!this.listener) return;
    const started = performance.now();
    try {
      await this.listener(e);
    } catch (err) {
      this.listenerErrors.push(`at ${e.type}: ${(err as Error)?.message ?? String(err)}`);
    } finally {
      // Progress comes while a command runs, and nothing waits for its listener: that time overlaps the command, and stays in Ψ.
      if (e.type !== 'progress') {
        const ms = performance.now() - started;
        this.listenerMs += ms;
        this.pausedMs += ms;
      }
    }
  }

  /** Runs `fn` with the clock stopped (a fault put in). */
  async paused<T>(fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await fn();
    } finally {
      this.pausedMs += performance.now() - started;
    }
  }

  /** The record's fields about listeners and retries, as they are now. */
  recordFields() {
    return {
      ...(this.listenerMs > 0 ? { listenerMs: this.listenerMs } : {}),
      ...(this.listenerErrors.length ? { listenerErrors: [...this.listenerErrors] } : {}),
      ...(this.retries.length ? { retries: [...this.retries] } : {}),
    };
  }
}
