// The trip itself, position by position, in (compressed) real time: the
// window record of each stretch between two positions, the user's delay
// set on every edge when it changes cell, a migration that finished
// recorded, a border crossed while one runs decided (abort, chain, skip),
// and the policy asked whenever nothing moves. Migrations run in the
// background while the positions go on.
import { median } from 'simple-statistics';
import { longestGap, type Probe } from '../experiment/probe.js';
import { migrate, MigrationFailedError } from '../migration/engine/migrate.js';
import type { EventListener } from '../migration/engine/types.js';
import type { MigrationRecord } from '../migration/record/schema.js';
import { type Cell, servingCell } from '../common/road-cells.js';
import type { Inventory } from '../common/inventory.js';
import type { HandoverPolicy } from './policies/registry.js';
import { overrunDecision, type Overrun, SOFAR_POINTS } from './replay.js';
import { appendTripLine, type HandoverRecord } from './trip-results.js';
import type { TripPoint } from './trip.js';

/** A stretch this long without an answer counts, whole, as the service unavailable (a few probe timeouts of a slow TCG guest are not). */
export const UNANSWERED_MS = 250;
/** A window closes after this much trip time at least (or at a border, or when a move ends): a 10 Hz trace does not write ten records a second. */
export const MIN_WINDOW_S = 1;

/** The time in [from, to] inside stretches of UNANSWERED_MS or more without an answer; `answers` sorted, `to` is now (a stretch still open counts as long as it is so far). */
export function unansweredIn(answers: readonly number[], from: number, to: number, minGapMs = UNANSWERED_MS): number {
  let prev = 0;
  let total = 0;
  for (const a of [...answers.filter((x) => x <= to), to]) {
    if (a - prev >= minGapMs) total += Math.max(0, Math.min(a, to) - Math.max(prev, from));
    prev = Math.max(prev, a);
    if (prev >= to) break;
  }
  return total;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** A migration under way; `done` is set when it settles. */
interface Move {
  from: string;
  to: string;
  why: string;
  startT: number;
  startWallMs: number;
  abort: AbortController;
  overrun?: Overrun;
  done?: { record?: MigrationRecord; error?: string; endWallMs: number };
  settled: Promise<void>;
}

export interface FollowerOptions {
  inventory: Inventory;
  policy: HandoverPolicy;
  strategy: string;
  container: string;
  predumps: number;
  speedup: number;
  cells: readonly Cell[];
  /** Trip time from 0. */
  points: readonly TripPoint[];
  startEdge: string;
  /** A migration's expected wall time before one was measured. */
  migrationWallS: number;
  probe: Probe;
  /** Sets every edge's delay for a user in `cell`. */
  setDelays: (cell: string | undefined) => Promise<void>;
  rttFor: (userCell: string | undefined, edge: string) => number | undefined;
  base: { key: string; attempt: string };
  out: string;
  log: (line: string) => void;
  onEvent?: EventListener;
  /** The engine's migrate; unit tests give one that only takes time. */
  migrate?: typeof migrate;
}

export class TripFollower {
  readonly handovers: HandoverRecord[] = [];
  serviceEdge: string;
  /** Why the trip stopped early: a move whose rollback did not settle. */
  failure?: string;
  private move?: Move;
  private chainTo?: string;
  private lastCell: string | undefined;
  /** The position the window being gathered started at. */
  private windowStart = 0;
  private readonly measuredWallS: number[] = [];
  private readonly wallStart: number;

  constructor(private readonly o: FollowerOptions) {
    this.serviceEdge = o.startEdge;
    this.lastCell = this.cellAt(o.points[0]!);
    this.wallStart = o.probe.now();
  }

  /** Every position; a move still running at the end (or when something threw) is waited for and recorded. */
  async run(): Promise<void> {
    try {
      for (let i = 0; i < this.o.points.length && !this.failure; i++) await this.step(i);
    } finally {
      if (this.move) {
        await this.move.settled;
        this.finish(this.move);
      }
    }
  }

  private cellAt(p: TripPoint): string | undefined {
    return servingCell(this.o.cells, p)?.edge;
  }

  private wallAt(t: number): number {
    return this.wallStart + (t * 1000) / this.o.speedup;
  }

  private tripT(wallMs: number): number {
    return ((wallMs - this.wallStart) * this.o.speedup) / 1000;
  }

  /** A migration's time, in trip seconds: the mean of this trip's so far, or the estimate it started with. */
  private migrationS(): number {
    const m = this.measuredWallS;
    return (m.length ? m.reduce((a, b) => a + b, 0) / m.length : this.o.migrationWallS) * this.o.speedup;
  }

  private async step(i: number): Promise<void> {
    const { points, probe } = this.o;
    const p = points[i]!;
    await sleep(this.wallAt(p.t) - probe.now());
    const cell = this.cellAt(p);
    const from = points[this.windowStart]!;
    if (i > 0 && (i === points.length - 1 || p.t - from.t >= MIN_WINDOW_S || cell !== this.lastCell || this.move?.done)) {
      this.writeWindow(from, p, [this.wallAt(from.t), probe.now()]);
      this.windowStart = i;
    }
    if (this.move?.done) {
      this.finish(this.move);
      const chain = this.chainTo;
      this.chainTo = undefined;
      if (chain && chain !== this.serviceEdge && !this.failure) this.start(chain, 'chained after an overrun', p.t);
    }
    if (cell !== this.lastCell) {
      await this.o.setDelays(cell);
      this.o.log(
        `  ${p.t.toFixed(1)} s: the user enters ${cell ? `${cell}'s` : 'no'} cell; the service on ${this.serviceEdge} is ${this.o.rttFor(cell, this.serviceEdge) ?? '–'} ms away`,
      );
      if (this.move) this.overrun(this.move, cell, p.t);
    }
    if (!this.move && !this.failure) {
      const d = this.o.policy.decide({
        cells: this.o.cells,
        sofar: points.slice(Math.max(0, i - SOFAR_POINTS), i + 1),
        ...(this.o.policy.knowsPath ? { path: points } : {}),
        serviceEdge: this.serviceEdge,
        migrationS: this.migrationS(),
      });
      if (d.kind === 'migrate' && d.to !== this.serviceEdge) this.start(d.to, d.why, p.t);
    }
    this.lastCell = cell;
  }

  /** The user crossed a border while `m` runs: roll it back, chain another move after it, or let it be. */
  private overrun(m: Move, cell: string | undefined, t: number): void {
    const d = overrunDecision(this.o.cells, m.from, m.to, cell);
    if (!d) return;
    m.overrun = d;
    this.o.log(`  ${t.toFixed(1)} s: the user entered ${cell}'s cell while ${m.from} → ${m.to} runs: ${d}`);
    if (d === 'abort') m.abort.abort(`the user went back into ${cell}'s cell at ${t.toFixed(1)} s`);
    if (d === 'chain') this.chainTo = cell;
  }

  private start(to: string, why: string, t: number): void {
    const { probe } = this.o;
    const m: Move = { from: this.serviceEdge, to, why, startT: t, startWallMs: probe.now(), abort: new AbortController(), settled: Promise.resolve() };
    this.o.log(`  ${t.toFixed(1)} s: ${this.o.container} ${m.from} → ${to} by ${this.o.strategy} (${why})`);
    m.settled = (this.o.migrate ?? migrate)({
      inventory: this.o.inventory,
      strategy: this.o.strategy,
      container: this.o.container,
      from: m.from,
      to,
      predumps: this.o.predumps,
      signal: m.abort.signal,
      ...(this.o.onEvent ? { onEvent: this.o.onEvent } : {}),
    }).then(
      (record) => {
        m.done = { record, endWallMs: probe.now() };
      },
      (e: unknown) => {
        m.done = { ...(e instanceof MigrationFailedError ? { record: e.record } : {}), error: (e as Error).message, endWallMs: probe.now() };
      },
    );
    this.move = m;
  }

  /** A settled move's record; the service is where it ended. */
  private finish(m: Move): void {
    const d = m.done!;
    const outcome = m.abort.signal.aborted && d.record?.outcome === 'rolled-back' ? 'aborted' : (d.record?.outcome ?? 'failed');
    const answers = this.o.probe
      .answered()
      .atMs.filter((a) => a >= m.startWallMs && a <= d.endWallMs)
      .map((a) => a - m.startWallMs);
    const h: HandoverRecord = {
      kind: 'handover',
      ...this.o.base,
      from: m.from,
      to: m.to,
      why: m.why.slice(0, 500),
      startT: m.startT,
      endT: Math.max(m.startT, this.tripT(d.endWallMs)),
      outcome,
      ...(m.overrun ? { overrun: m.overrun } : {}),
      serviceDowntimeMs: longestGap(answers, d.endWallMs - m.startWallMs).ms,
      ...(d.record ? { migration: d.record } : {}),
      ...(d.error ? { error: d.error.slice(0, 4000) } : {}),
    };
    appendTripLine(this.o.out, h);
    this.handovers.push(h);
    const downtime = d.record?.downtimeMs !== undefined ? `, downtime ${d.record.downtimeMs.toFixed(0)} ms` : '';
    this.o.log(`  ${h.endT.toFixed(1)} s: ${outcome}${downtime}, service unanswered ${(h.serviceDowntimeMs / 1000).toFixed(1)} s at most`);
    if (outcome === 'migrated') {
      this.serviceEdge = m.to;
      this.measuredWallS.push((d.endWallMs - m.startWallMs) / 1000);
    } else if (outcome === 'failed') {
      this.failure = `the move ${m.from} → ${m.to} at ${m.startT.toFixed(1)} s failed and its rollback did not settle: ${d.error ?? 'no record'}`;
    }
    this.move = undefined;
  }

  /** The stretch from `a` to `b`: where the user and the service were, and what the probe saw in it. */
  private writeWindow(a: TripPoint, b: TripPoint, [fromMs, toMs]: [number, number]): void {
    const { atMs, latencyMs } = this.o.probe.answered();
    const inside: number[] = [];
    let first = atMs.length;
    while (first > 0 && atMs[first - 1]! >= fromMs) {
      first--;
      if (atMs[first]! <= toMs) inside.push(latencyMs[first]!);
    }
    appendTripLine(this.o.out, {
      kind: 'window',
      ...this.o.base,
      t0: a.t,
      t1: b.t,
      x: b.x,
      y: b.y,
      userCell: this.lastCell ?? null,
      serviceEdge: this.serviceEdge,
      migrating: this.move !== undefined,
      rttMs: this.o.rttFor(this.lastCell, this.serviceEdge) ?? null,
      // From the last answer before the window on: enough to place every stretch without one.
      unavailableMs: unansweredIn(atMs.slice(Math.max(0, first - 1)), fromMs, toMs),
      sent: Math.max(this.o.probe.sentBetween(fromMs, toMs), inside.length),
      answered: inside.length,
      medianAnswerMs: inside.length ? median(inside) : null,
    });
  }
}
