// The memory workload's own throughput around a move: its /state sampled
// every 500 ms on every container address while a bench plan runs (bounded
// in time, loopback-free: the testbed's addresses only), then, for a run
// with a lazy window, its ticks and dirtied pages per second in the window
// against the 10 s before the move's first phase.
import type { Inventory } from '../../common/inventory.js';
import type { RunRecord } from '../../experiment/results.js';
import { httpGetText } from '../../workloads/http.js';

interface Sample {
  t: number;
  ticks: number;
  dirtied: number;
}

/** Each container address's samples. */
export type MemorySamples = Map<string, Sample[]>;

export interface MemorySampler {
  stop(): MemorySamples;
}

/** Samples every container address of the testbed until stopped, or `maxMs`. */
export function sampleMemory(inv: Inventory, maxMs: number): MemorySampler {
  const samples: MemorySamples = new Map();
  const started = Date.now();
  let stopped = false;
  const loop = async (ip: string) => {
    while (!stopped && Date.now() - started < maxMs) {
      const t = Date.now();
      const text = await httpGetText(ip, 80, '/state', 400).catch(() => undefined);
      const m = text ? /^(\d+) (\d+) \d+ \d+ [01]\s*$/.exec(text) : null;
      if (m) samples.set(ip, [...(samples.get(ip) ?? []), { t, ticks: Number(m[1]), dirtied: Number(m[2]) }]);
      await new Promise((r) => setTimeout(r, Math.max(0, 500 - (Date.now() - t))));
    }
  };
  for (const a of inv.containerAddresses) void loop(a.ip);
  return {
    stop() {
      stopped = true;
      return samples;
    },
  };
}

/** Per second between two times, from the samples nearest each (undefined without samples around both). */
function rateBetween(s: readonly Sample[], from: number, to: number, f: (x: Sample) => number): number | undefined {
  const at = (t: number) => s.reduce<Sample | undefined>((best, x) => (!best || Math.abs(x.t - t) < Math.abs(best.t - t) ? x : best), undefined);
  const a = at(from);
  const b = at(to);
  if (!a || !b || b.t - a.t < 1_000 || Math.abs(a.t - from) > 1_000 || Math.abs(b.t - to) > 1_000) return undefined;
  return ((f(b) - f(a)) * 1000) / (b.t - a.t);
}

/** The lazy window's ticks and dirtied pages per second, each as a share of the 10 s before the move. */
export function lazyThroughput(run: RunRecord, samples: MemorySamples): { ticks: number; dirtied: number } | undefined {
  const m = run.migration;
  if (!m?.lazy?.lastPageAtMs || !m.containerIp) return undefined;
  const s = samples.get(m.containerIp);
  if (!s) return undefined;
  // The record's offsets count from the first phase, which starts set-up's time after startedAt.
  const t0 = Date.parse(m.startedAt) + m.setupMs;
  const ratio = (f: (x: Sample) => number) => {
    const before = rateBetween(s, t0 - 10_000, t0, f);
    const during = rateBetween(s, t0 + m.lazy!.restoredAtMs, t0 + m.lazy!.lastPageAtMs!, f);
    return before && during !== undefined ? during / before : undefined;
  };
  const ticks = ratio((x) => x.ticks);
  const dirtied = ratio((x) => x.dirtied);
  return ticks !== undefined && dirtied !== undefined ? { ticks, dirtied } : undefined;
}
