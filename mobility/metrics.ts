// What a driver experienced over a trip, from the trip run's records: one
// per probe window (where the user was, where the service ran, the RTT the
// emulation applied, how long the probe went unanswered) and one per
// handover. Pure: the report's policy table reads it.

/** A stretch of the trip between two position updates. */
export interface ProbeWindow {
  policy: string;
  /** Trip time (s) at its start and end. */
  t0: number;
  t1: number;
  userCell: string | null;
  serviceEdge: string;
  /** The RTT applied in it (ms); null when the user had no cell. */
  rttMs: number | null;
  /** How long within it the service probe got no answer (ms). */
  unavailableMs: number;
}

export interface HandoverRecord {
  policy: string;
  from: string;
  to: string;
  outcome: 'migrated' | 'rolled-back' | 'failed' | 'aborted';
  downtimeMs?: number;
  bytesMoved?: number;
  overrun?: 'abort' | 'chain' | 'skip';
}

export interface PolicyOutcome {
  policy: string;
  handovers: number;
  totalUnavailableS: number;
  longestUnavailableS: number;
  /** Time-weighted over the time the service answered and the user had a cell. */
  meanRttMs: number | null;
  p95RttMs: number | null;
  /** Share of the trip with the service answering within the budget. */
  withinBudget: number;
  bytesMoved: number;
}

/** The RTT a weighted share `q` of the time stayed at or under. */
function weightedQuantile(samples: { v: number; w: number }[], q: number): number | null {
  const total = samples.reduce((a, s) => a + s.w, 0);
  if (total <= 0) return null;
  const sorted = [...samples].sort((a, b) => a.v - b.v);
  let acc = 0;
  for (const s of sorted) {
    acc += s.w;
    if (acc >= q * total - 1e-9) return s.v;
  }
  return sorted.at(-1)!.v;
}

/** The longest outage: unanswered time in windows that follow one another without a break is one outage (a 4 s one spans windows of 1 s). */
function longestOutageMs(windows: readonly ProbeWindow[]): number {
  let longest = 0;
  let run = 0;
  let end: number | undefined;
  for (const w of [...windows].sort((a, b) => a.t0 - b.t0)) {
    run = w.unavailableMs > 0 ? (end === w.t0 ? run : 0) + w.unavailableMs : 0;
    end = w.unavailableMs > 0 ? w.t1 : undefined;
    longest = Math.max(longest, run);
  }
  return longest;
}

export function policyOutcome(policy: string, windows: readonly ProbeWindow[], handovers: readonly HandoverRecord[], budgetMs: number): PolicyOutcome {
  const mine = windows.filter((w) => w.policy === policy);
  const moves = handovers.filter((h) => h.policy === policy);
  const tripS = mine.reduce((a, w) => a + (w.t1 - w.t0), 0);
  // The time in each window the service answered, at that window's RTT.
  const answered = mine.filter((w) => w.rttMs !== null).map((w) => ({ v: w.rttMs!, w: Math.max(0, w.t1 - w.t0 - w.unavailableMs / 1000) }));
  const answeredS = answered.reduce((a, s) => a + s.w, 0);
  const withinS = answered.filter((s) => s.v <= budgetMs).reduce((a, s) => a + s.w, 0);
  return {
    policy,
    handovers: moves.filter((h) => h.outcome === 'migrated').length,
    totalUnavailableS: mine.reduce((a, w) => a + w.unavailableMs, 0) / 1000,
    longestUnavailableS: longestOutageMs(mine) / 1000,
    meanRttMs: answeredS > 0 ? answered.reduce((a, s) => a + s.v * s.w, 0) / answeredS : null,
    p95RttMs: weightedQuantile(answered, 0.95),
    withinBudget: tripS > 0 ? withinS / tripS : 0,
    bytesMoved: moves.reduce((a, h) => a + (h.bytesMoved ?? 0), 0),
  };
}
