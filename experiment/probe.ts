// The service probe: during a migration the controller asks the container's
// service every `intervalMs` (a new TCP connection and one HTTP request each
// time, as a user's client would), with a timeout per request, a cap on
// requests in flight and on the whole run. The longest stretch without an
// answer is the downtime a user of the service sees.
//
// The cap matters under TCG: there a guest answers in tens to hundreds of
// milliseconds while it migrates, and with a request every 10 ms and none
// refused, a hundred connections were pending at any time; the service then
// answered almost nothing even before the freeze, and CRIU had to dump every
// pending connection with the container. With at most MAX_IN_FLIGHT pending,
// the probe asks as often as the service can answer, up to every 10 ms.
import { request } from 'node:http';
import { type Static, Type } from '@sinclair/typebox';

export interface ProbeOptions {
  ip: string;
  port: number;
  path: string;
  intervalMs: number;
  timeoutMs: number;
  /** The probe stops by itself after this long. */
  maxMs: number;
}

export const ProbeReportSchema = Type.Object(
  {
    intervalMs: Type.Integer({ minimum: 1 }),
    timeoutMs: Type.Integer({ minimum: 1 }),
    sent: Type.Integer({ minimum: 0 }),
    answered: Type.Integer({ minimum: 0 }),
    /** The longest time between two answers (or from the start or to the end), ms. */
    longestGapMs: Type.Number({ minimum: 0 }),
    /** Where that gap began and ended, ms from the probe's start. */
    gapFromMs: Type.Number({ minimum: 0 }),
    gapToMs: Type.Number({ minimum: 0 }),
    /** Ticks with no request sent because MAX_IN_FLIGHT were pending (the service answered slower than the interval). */
    skipped: Type.Integer({ minimum: 0 }),
    /** Marks set by the runner (migrate, psi-start, freeze, migrated), ms from the probe's start. */
    marks: Type.Record(Type.String(), Type.Number({ minimum: 0 })),
    /** The stretch without an answer around the freeze (the "freeze" mark): the outage the migration itself caused. */
    freezeGapMs: Type.Optional(Type.Number({ minimum: 0 })),
    answeredBefore: Type.Integer({ minimum: 0, description: 'answers before the "migrate" mark' }),
    answeredAfter: Type.Integer({ minimum: 0, description: 'answers after the "migrated" mark' }),
    ranMs: Type.Number({ minimum: 0 }),
  },
  { additionalProperties: false },
);
export type ProbeReport = Static<typeof ProbeReportSchema>;

/** Every request: when it was sent (ms from the start) and how long its answer took (-1: none). */
export interface ProbeTimeline {
  sentMs: number[];
  latencyMs: number[];
}

export interface Probe {
  mark(name: string): void;
  /** A mark at a time known afterwards (ms from the probe's start). */
  markAt(name: string, ms: number): void;
  marks(): Readonly<Record<string, number>>;
  /** ms from the probe's start, now. */
  now(): number;
  /** The answers so far, in arrival order: when each came (ms from the start) and how long it took. */
  answered(): { atMs: readonly number[]; latencyMs: readonly number[] };
  /** Requests sent in [fromMs, toMs]. */
  sentBetween(fromMs: number, toMs: number): number;
  /** Resolves once `n` answers arrived after the call, or after `maxWaitMs`: true when they did. */
  answersAfter(n: number, maxWaitMs: number): Promise<boolean>;
  stop(): Promise<{ report: ProbeReport; timeline: ProbeTimeline }>;
}

export const MAX_IN_FLIGHT = 8;

/** The stretch with no answer that holds `t`: from the last answer before it to the first after it (or the end). */
export function gapAround(answerTimes: readonly number[], t: number, endMs: number): number {
  const before = Math.max(0, ...answerTimes.filter((a) => a <= t));
  const after = Math.min(endMs, ...answerTimes.filter((a) => a > t));
  return after - before;
}

/** The longest stretch of [0, end] with no answer, given the answer times. */
export function longestGap(answerTimes: readonly number[], endMs: number): { ms: number; from: number; to: number } {
  const ts = [...answerTimes].sort((a, b) => a - b);
  let best = { ms: 0, from: 0, to: 0 };
  let prev = 0;
  for (const t of [...ts, endMs]) {
    if (t - prev > best.ms) best = { ms: t - prev, from: prev, to: t };
    prev = Math.max(prev, t);
  }
  return best;
}

function ask(o: ProbeOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      { host: o.ip, port: o.port, path: o.path, method: 'GET', agent: false, timeout: o.timeoutMs, headers: { Connection: 'close' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
        res.on('error', () => resolve(false));
      },
    );
    const timer = setTimeout(() => req.destroy(), o.timeoutMs);
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    // Whatever ended the request (an answer resolved it already; a cut connection did not): it is settled, so stop() never waits forever.
    req.on('close', () => {
      clearTimeout(timer);
      resolve(false);
    });
    req.end();
  });
}

export function startProbe(o: ProbeOptions): Probe {
  const started = performance.now();
  const now = () => performance.now() - started;
  const timeline: ProbeTimeline = { sentMs: [], latencyMs: [] };
  const answers: number[] = [];
  const answerLatencies: number[] = [];
  const marks: Record<string, number> = {};
  const pending = new Set<Promise<void>>();
  // Answers arrive in time order: a waiter needs the answer count to reach `until`.
  const waiters: { until: number; resolve: (ok: boolean) => void }[] = [];
  const maxRequests = Math.ceil(o.maxMs / o.intervalMs);
  let stopped = false;
  let skipped = 0;

  const send = () => {
    if (stopped || timeline.sentMs.length >= maxRequests) return;
    if (pending.size >= MAX_IN_FLIGHT) {
      skipped++;
      return;
    }
    const i = timeline.sentMs.length;
    const sentAt = now();
    timeline.sentMs.push(sentAt);
    timeline.latencyMs.push(-1);
    const p = ask(o).then((ok) => {
      pending.delete(p);
      if (!ok || stopped) return;
      const at = now();
      timeline.latencyMs[i] = at - sentAt;
      answers.push(at);
      answerLatencies.push(at - sentAt);
      for (const w of [...waiters]) {
        if (answers.length >= w.until) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(true);
        }
      }
    });
    pending.add(p);
  };
  const timer = setInterval(send, o.intervalMs);
  const limit = setTimeout(() => {
    stopped = true;
    clearInterval(timer);
  }, o.maxMs);
  send();

  return {
    mark: (name) => {
      marks[name] = now();
    },
    markAt: (name, ms) => {
      marks[name] = Math.max(0, ms);
    },
    marks: () => marks,
    now,
    answered: () => ({ atMs: answers, latencyMs: answerLatencies }),
    sentBetween(fromMs, toMs) {
      let n = 0;
      for (let k = timeline.sentMs.length - 1; k >= 0 && timeline.sentMs[k]! >= fromMs; k--) if (timeline.sentMs[k]! <= toMs) n++;
      return n;
    },
    answersAfter(n, maxWaitMs) {
      return new Promise((resolve) => {
        // The timer goes when the answers come: a pending one would keep the process alive for maxWaitMs.
        const timer = setTimeout(() => {
          const i = waiters.indexOf(w);
          if (i >= 0) {
            waiters.splice(i, 1);
            resolve(false);
          }
        }, maxWaitMs);
        const w = {
          until: answers.length + n,
          resolve: (ok: boolean) => {
            clearTimeout(timer);
            resolve(ok);
          },
        };
        waiters.push(w);
      });
    },
    async stop() {
      const end = now();
      stopped = true;
      clearInterval(timer);
      clearTimeout(limit);
      // Requests in flight end within their timeout; what they answer after the stop does not count.
      await Promise.all([...pending]);
      const kept = answers.filter((a) => a <= end);
      const gap = longestGap(kept, end);
      const migrateAt = marks['migrate'] ?? end;
      const migratedAt = marks['migrated'] ?? end;
      return {
        report: {
          intervalMs: o.intervalMs,
          timeoutMs: o.timeoutMs,
          sent: timeline.sentMs.length,
          answered: kept.length,
          longestGapMs: gap.ms,
          gapFromMs: gap.from,
          gapToMs: gap.to,
          skipped,
          marks,
          ...(marks['freeze'] !== undefined ? { freezeGapMs: gapAround(kept, marks['freeze'], end) } : {}),
          answeredBefore: kept.filter((a) => a < migrateAt).length,
          answeredAfter: kept.filter((a) => a > migratedAt).length,
          ranMs: end,
        },
        timeline,
      };
    },
  };
}

/** " (at 41.2 s of the run; freeze 30.0 s, migrated 38.0 s)": where an event falls against the run's marks. */
export function whenOnProbeClock(marks: Readonly<Record<string, number>>, event: string): string {
  const at = marks[event];
  if (at === undefined) return '';
  const others = ['migrate', 'psi-start', 'freeze', 'migrated'].filter((m) => marks[m] !== undefined).map((m) => `${m} ${(marks[m]! / 1000).toFixed(1)} s`);
  return ` (at ${(at / 1000).toFixed(1)} s of the run${others.length ? `; ${others.join(', ')}` : ''})`;
}
