// What every streaming client on the controller shares: its clock, its
// tick and its time limit, the first error it met (and when), its stalls,
// and one report, made once, when it is stopped, fails or runs out of time.
import type { ClientReport, WorkloadClient } from './types.js';

/** What only the client itself knows at its end: its connections and bytes. */
export type ClientCounts = Pick<ClientReport, 'connections' | 'requests' | 'bytes' | 'verifiedBytes'>;

export interface ClientRun {
  /** performance.now() at the start: stalls and the error are placed from it. */
  readonly started: number;
  readonly stalls: { atMs: number; ms: number }[];
  /** True from the moment it ends: events of its own teardown are not failures. */
  readonly stopped: boolean;
  /** Keeps the first error, with when it came, and ends the client. */
  fail(e: Error): void;
  finish(): ClientReport;
  client: WorkloadClient;
}

export function clientRun(o: {
  kind: string;
  maxMs: number;
  tickMs?: number | undefined;
  tick: () => void;
  /** Closes what the client holds and says what it counted; `now` is its end. */
  end: (now: number) => ClientCounts;
}): ClientRun {
  const started = performance.now();
  const stalls: { atMs: number; ms: number }[] = [];
  let error: string | undefined;
  let errorAtMs = 0;
  let stopped = false;
  let report: ClientReport | undefined;
  const timer = setInterval(o.tick, o.tickMs ?? 20);
  const limit = setTimeout(() => finish(), o.maxMs);

  function finish(): ClientReport {
    if (report) return report;
    stopped = true;
    clearInterval(timer);
    clearTimeout(limit);
    const now = performance.now();
    const counts = o.end(now);
    report = {
      kind: o.kind,
      ...counts,
      ranMs: now - started,
      stalls,
      longestStallMs: Math.max(0, ...stalls.map((s) => s.ms)),
      ...(error ? { error, errorAtMs } : {}),
    };
    return report;
  }

  return {
    started,
    stalls,
    get stopped() {
      return stopped;
    },
    fail(e) {
      if (stopped) return;
      if (error === undefined) {
        error = e.message;
        errorAtMs = performance.now() - started;
      }
      finish();
    },
    finish,
    client: { stop: async () => finish() },
  };
}
