// A client that watches a workload's counter from the controller: it reads
// the counter every `intervalMs` (one request at a time, each bounded) and
// records every stall, a stretch longer than `stallAfterMs` in which it did
// not see the counter grow (the container frozen, or not answering). It is
// the user's view of "the service went on", where the probe sees only
// "the service answered". It also checks the count's sequence: a count that
// goes back is an error.
import type { ClientReport, WorkloadClient } from './types.js';

export interface CounterClientOptions {
  /** Reads the counter once; rejects when there is no answer. */
  read: () => Promise<number>;
  intervalMs: number;
  /** Longer than this without growth is a stall (the counter's own step, with room for a loaded guest). */
  stallAfterMs: number;
  maxMs: number;
  kind: string;
}

export function startCounterClient(o: CounterClientOptions): WorkloadClient {
  const started = performance.now();
  const now = () => performance.now() - started;
  const stalls: { atMs: number; ms: number }[] = [];
  let requests = 0;
  let last: { value: number; at: number } | undefined;
  let stopped = false;
  let inFlight: Promise<void> | undefined;

  let wentBack: string | undefined;
  const growth = (value: number, at: number) => {
    // The count only grows: one that goes back is a container restarted, or its memory restored stale.
    if (last && value < last.value) wentBack ??= `the count went back from ${last.value} to ${value} at ${at.toFixed(0)} ms`;
    if (last && value <= last.value) return;
    if (last && at - last.at > o.stallAfterMs) stalls.push({ atMs: last.at, ms: at - last.at });
    last = { value, at };
  };
  const tick = () => {
    if (stopped || inFlight) return;
    requests++;
    inFlight = o
      .read()
      .then((v) => growth(v, now()))
      .catch(() => undefined)
      .finally(() => {
        inFlight = undefined;
      });
  };
  const timer = setInterval(tick, o.intervalMs);
  const limit = setTimeout(() => {
    stopped = true;
    clearInterval(timer);
  }, o.maxMs);
  tick();

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      clearTimeout(limit);
      await inFlight;
      const end = now();
      // A stall still going at the end counts up to the end.
      if (last && end - last.at > o.stallAfterMs) stalls.push({ atMs: last.at, ms: end - last.at });
      return {
        kind: o.kind,
        // A new connection per read: the count is served by an HTTP/1.0 server that closes each one.
        connections: requests,
        requests,
        bytes: 0,
        ranMs: end,
        stalls,
        longestStallMs: Math.max(0, ...stalls.map((s) => s.ms)),
        ...(last === undefined ? { error: 'the counter never answered' } : wentBack ? { error: wentBack } : {}),
      } satisfies ClientReport;
    },
  };
}
