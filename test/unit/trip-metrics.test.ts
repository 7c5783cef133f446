import { describe, expect, it } from 'vitest';
import { type HandoverRecord, type ProbeWindow, policyOutcome } from '../../mobility/metrics.js';

const w = (policy: string, t0: number, t1: number, rttMs: number | null, unavailableMs = 0): ProbeWindow => ({
  policy,
  t0,
  t1,
  userCell: rttMs === null ? null : 'edge-b',
  serviceEdge: 'edge-a',
  rttMs,
  unavailableMs,
});

describe('what a driver experienced, per policy', () => {
  it('an outage that spans windows is one outage: its parts add up, a window that answered ends it', () => {
    const windows = [w('p', 0, 1, 4, 600), w('p', 1, 2, 4, 1000), w('p', 2, 3, 4, 400), w('p', 3, 4, 4, 0), w('p', 4, 5, 4, 900)];
    const o = policyOutcome('p', windows, [], 10);
    expect(o.longestUnavailableS).toBeCloseTo(2);
    expect(o.totalUnavailableS).toBeCloseTo(2.9);
  });

  it('weights the RTT by time answered, and counts the budget over the whole trip', () => {
    // 10 s at 4 ms, then 10 s at 10 ms of which 2 s unanswered (a migration), then 20 s at 16 ms.
    const windows = [w('predictive', 0, 10, 4), w('predictive', 10, 20, 10, 2000), w('predictive', 20, 40, 16), w('stay', 0, 40, 16)];
    const handovers: HandoverRecord[] = [
      { policy: 'predictive', from: 'edge-a', to: 'edge-b', outcome: 'migrated', downtimeMs: 2000, bytesMoved: 1000 },
      { policy: 'predictive', from: 'edge-b', to: 'edge-c', outcome: 'rolled-back', bytesMoved: 500, overrun: 'abort' },
    ];
    const p = policyOutcome('predictive', windows, handovers, 10);
    expect(p.handovers).toBe(1);
    expect(p.totalUnavailableS).toBe(2);
    expect(p.longestUnavailableS).toBe(2);
    // (4×10 + 10×8 + 16×20) / 38
    expect(p.meanRttMs).toBeCloseTo(440 / 38, 9);
    expect(p.p95RttMs).toBe(16);
    // 18 s of 40 within 10 ms.
    expect(p.withinBudget).toBeCloseTo(18 / 40, 9);
    expect(p.bytesMoved).toBe(1500);
    const stay = policyOutcome('stay', windows, handovers, 10);
    expect([stay.handovers, stay.withinBudget, stay.meanRttMs]).toEqual([0, 0, 16]);
  });

  it('counts time without a cell outside the budget and out of the RTT figures', () => {
    const p = policyOutcome('reactive', [w('reactive', 0, 10, 4), w('reactive', 10, 20, null)], [], 10);
    expect(p.withinBudget).toBe(0.5);
    expect(p.meanRttMs).toBe(4);
    expect(policyOutcome('none', [], [], 10)).toMatchObject({ withinBudget: 0, meanRttMs: null, p95RttMs: null });
  });
});

describe("the user's latency, applied by each edge", () => {
  it('delays only the answers to the controller, under the profile’s root, and changes the delay in place', async () => {
    const { userLatency } = await import('../../mobility/user-latency.js');
    const apply = userLatency.apply('enp1s0', '10.77.30.1', 7);
    expect(apply[0]).toEqual(['tc', 'class', 'add', 'dev', 'enp1s0', 'parent', '1:', 'classid', '1:20', 'htb', 'rate', '100gbit']);
    expect(apply[1]!.slice(-2)).toEqual(['delay', '7ms']);
    expect(apply[2]!.slice(-4)).toEqual(['dst', '10.77.30.1/32', 'flowid', '1:20']);
    expect(userLatency.change('enp1s0', 10.0004)).toEqual([
      'tc',
      'qdisc',
      'change',
      'dev',
      'enp1s0',
      'parent',
      '1:20',
      'handle',
      '20:',
      'netem',
      'limit',
      '10000',
      'delay',
      '10ms',
    ]);
    expect(() => userLatency.apply('enp1s0; reboot', '10.77.30.1', 7)).toThrow(/not an interface name/);
    expect(() => userLatency.apply('enp1s0', '10.77.30.1/24', 7)).toThrow(/not an IPv4 address/);
    expect(() => userLatency.change('enp1s0', Number.NaN)).toThrow(/not a delay/);
  });
});
