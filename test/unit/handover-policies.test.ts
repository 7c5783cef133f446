import { describe, expect, it } from 'vitest';
import type { Cell } from '../../common/road-cells.js';
import { HANDOVER_POLICIES } from '../../mobility/policies/registry.js';
import { HYSTERESIS_S } from '../../mobility/policies/reactive.js';
import { LEAD_MARGIN_S } from '../../mobility/policies/predictive.js';
import { overrunDecision, replay } from '../../mobility/replay.js';
import { synthTrip, type Trip } from '../../mobility/trip.js';

const road: Cell[] = [
  { edge: 'edge-a', x: 0, y: 0, radiusM: 600 },
  { edge: 'edge-b', x: 1000, y: 0, radiusM: 600 },
  { edge: 'edge-c', x: 2000, y: 0, radiusM: 600 },
];
const policy = (name: string) => HANDOVER_POLICIES.find((p) => p.name === name)!;
const trip = (xs: number[]): Trip => ({ vehicle: 'v', format: 'csv', points: xs.map((x, t) => ({ t, x, y: 0 })) });
// 20 m/s along the whole road: the first positions in b and c are at 26 s and 76 s; the trip ends at 100 s.
const drive = synthTrip(road, 72);

describe('handover policies', () => {
  it('stay never moves the service', () => {
    const r = replay(drive, road, policy('stay'), { migrationS: 5 });
    expect(r.handovers).toEqual([]);
    expect(new Set(r.timeline.map((x) => x.serviceEdge))).toEqual(new Set(['edge-a']));
  });

  it('reactive follows only a user who stays in the new cell: no ping-pong along the border', () => {
    // Across the a|b border and back twice, then into b for good at t = 5.
    const r = replay(trip([480, 520, 480, 520, 480, 520, 540, 560, 580, 600, 620]), road, policy('reactive'), { migrationS: 2 });
    expect(r.handovers.map((h) => [h.from, h.to, h.startT, h.endT])).toEqual([['edge-a', 'edge-b', 5 + HYSTERESIS_S, 5 + HYSTERESIS_S + 2]]);
  });

  it('predictive starts the measured migration time plus its margin before each border, so the cutover lands before it', () => {
    const migrationS = 5;
    const lead = migrationS + LEAD_MARGIN_S;
    const r = replay(drive, road, policy('predictive'), { migrationS });
    expect(r.handovers.map((h) => [h.from, h.to, h.startT, h.endT])).toEqual([
      ['edge-a', 'edge-b', 26 - lead, 26 - lead + migrationS],
      ['edge-b', 'edge-c', 76 - lead, 76 - lead + migrationS],
    ]);
    // Past the first border, the service is where the user is except in the seconds it waits ahead at the next one.
    expect(r.timeline.filter((x) => x.t >= 26 && x.userCell !== x.serviceEdge).map((x) => x.t)).toEqual([74, 75]);
    // A slower migration starts earlier: the lead time comes from what was measured.
    expect(replay(drive, road, policy('predictive'), { migrationS: 12 }).handovers[0]!.startT).toBe(26 - 12 - LEAD_MARGIN_S);
  });

  it('a migration overrun by the next border is chained, and the record says so', () => {
    // reactive starts a → b at 29 s; at 50 s a move it is still running when the user enters c at 76 s.
    const r = replay(drive, road, policy('reactive'), { migrationS: 50 });
    expect(r.handovers.map((h) => [h.from, h.to, h.startT, h.endT, h.overrun])).toEqual([
      ['edge-a', 'edge-b', 26 + HYSTERESIS_S, 26 + HYSTERESIS_S + 50, 'chain'],
      ['edge-b', 'edge-c', 26 + HYSTERESIS_S + 50, undefined, undefined],
    ]);
  });

  it('decides an overrun by where the user went: back (abort), on past the target (chain), elsewhere (skip)', () => {
    expect(overrunDecision(road, 'edge-a', 'edge-b', 'edge-a')).toBe('abort');
    expect(overrunDecision(road, 'edge-a', 'edge-b', 'edge-c')).toBe('chain');
    expect(overrunDecision(road, 'edge-b', 'edge-c', 'edge-a')).toBe('skip');
    expect(overrunDecision(road, 'edge-a', 'edge-b', 'edge-b')).toBeUndefined();
    expect(overrunDecision(road, 'edge-a', 'edge-b', undefined)).toBeUndefined();
    // A user who turns back mid-migration: the move is aborted and the service stays.
    const back = replay(trip([480, 520, 540, 560, 580, 600, 620, 640, 480, 460, 440]), road, policy('reactive'), { migrationS: 10 });
    expect(back.handovers.map((h) => [h.to, h.overrun, h.endT])).toEqual([['edge-b', 'abort', undefined]]);
    expect(back.timeline.at(-1)!.serviceEdge).toBe('edge-a');
  });

  it('says which policies need the path and which storage', () => {
    expect(HANDOVER_POLICIES.map((p) => [p.name, p.knowsPath, p.storage])).toEqual([
      ['stay', false, 'none'],
      ['reactive', false, 'shared'],
      ['predictive', true, 'copied'],
    ]);
  });
});
