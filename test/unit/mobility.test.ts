import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Cell, coverageGaps, hopsBetween, mapBounds, roadLengthM, servingCell } from '../../common/road-cells.js';
import { rttMs } from '../../mobility/latency.js';
import { crossings, synthTrip, tripFromText, tripSize } from '../../mobility/trip.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/traces/${name}`, import.meta.url), 'utf8');

// Three edges 1 km apart on a straight road, 600 m radius: neighbours overlap by 200 m.
const road: Cell[] = [
  { edge: 'edge-a', x: 0, y: 0, radiusM: 600 },
  { edge: 'edge-b', x: 1000, y: 0, radiusM: 600 },
  { edge: 'edge-c', x: 2000, y: 0, radiusM: 600 },
];

describe('cells along a road', () => {
  it('serves a point from the nearest covering cell, and nothing off coverage', () => {
    expect(servingCell(road, { x: 100, y: 10 })?.edge).toBe('edge-a');
    expect(servingCell(road, { x: 560, y: 0 })?.edge).toBe('edge-b');
    expect(servingCell(road, { x: 1000, y: 700 })).toBeUndefined();
    expect(roadLengthM(road)).toBe(2000);
    expect(mapBounds(road)).toEqual({ minX: -600, maxX: 2600, minY: -600, maxY: 600 });
    expect(hopsBetween(road, 'edge-a', 'edge-c')).toBe(2);
  });

  it('finds no gap where the cells overlap, and says where one is', () => {
    expect(coverageGaps(road)).toEqual([]);
    const sparse = road.map((c) => (c.edge === 'edge-b' ? { ...c, radiusM: 300 } : { ...c, radiusM: 450 }));
    // a reaches 450 m, b covers 700–1300 m, c from 1550 m.
    const gaps = coverageGaps(sparse);
    expect(gaps.map((g) => [Math.round(g.fromM), Math.round(g.toM), g.between])).toEqual([
      [450, 700, ['edge-a', 'edge-b']],
      [1300, 1550, ['edge-b', 'edge-c']],
    ]);
  });
});

describe('trace formats', () => {
  it('reads a SUMO FCD file: one vehicle chosen, persons ignored, several vehicles refused without --vehicle', () => {
    const trip = tripFromText(fixture('fcd.xml'), 'fcd.xml', road, { vehicle: 'car0' });
    expect(trip).toEqual({
      vehicle: 'car0',
      format: 'sumo-fcd',
      points: [
        { t: 0, x: 0, y: 0 },
        { t: 1, x: 13.89, y: 0 },
        { t: 2, x: 27.78, y: 0 },
      ],
    });
    expect(tripFromText(fixture('fcd.xml'), 'fcd.xml', road, { vehicle: 'bus1' }).points).toHaveLength(2);
    expect(() => tripFromText(fixture('fcd.xml'), 'fcd.xml', road)).toThrow(/2 vehicles \(car0, bus1\); choose one with --vehicle ID/);
    expect(() => tripFromText(fixture('fcd.xml'), 'fcd.xml', road, { vehicle: 'tram' })).toThrow(/--vehicle: no vehicle "tram" in fcd\.xml/);
  });

  it('reads a ONE trace and a CSV trip', () => {
    const one = tripFromText(fixture('one.txt'), 'one.txt', road);
    expect(one.format).toBe('one');
    expect(one.vehicle).toBe('1');
    expect(one.points.at(-1)).toEqual({ t: 3, x: 41.7, y: 0 });
    const csv = tripFromText(fixture('trip.csv'), 'trip.csv', road);
    expect(csv.format).toBe('csv');
    expect(csv.points).toEqual([
      { t: 0, x: 0, y: 0 },
      { t: 1, x: 13.9, y: 0 },
      { t: 2, x: 27.8, y: 0.5 },
    ]);
  });

  it('refuses malformed traces, naming the place and the problem', () => {
    const bad =
      (text: string, o: { vehicle?: string } = {}) =>
      () =>
        tripFromText(text, 'f', road, o);
    expect(bad('t,x,y\n0,0,0\n1,abc,0\n')).toThrow(/trace f: line 3: x is "abc", not a number/);
    expect(bad('t,x,y\n0,0,0\n0,5,0\n')).toThrow(/line 3: time 0 does not follow 0 \(line 2\): times must increase/);
    expect(bad('t,x,y\n0,0,0\n1,9000,0\n')).toThrow(/line 3: \(9000, 0\) is off the edges' map: x -600…2600/);
    expect(bad('t,x,y\n0,0,0\n')).toThrow(/has 1 position; a trip needs two/);
    expect(bad('0 10 0 100 0 100\n0 1 0 0\n1 1 5\n')).toThrow(/line 3: 3 fields; a position is "time id x y"/);
    expect(bad('0 10 0 100 0 100\n0 1 0 0\n20 1 5 0\n')).toThrow(/line 3: \(20, 5, 0\) is outside the header's bounds/);
    expect(bad('<fcd-export><timestep time="0"><vehicle id="a" x="0" y="0"/></timestep>\n<timestep time="1">\n</fcd-export>')).toThrow(/trace f: line \d+: /);
    expect(bad('<fcd-export><timestep time="0"><vehicle id="a" lon="7.1" lat="50.7"/></timestep></fcd-export>')).toThrow(
      /timestep 1 \(time 0\), vehicle a: x and y must be numbers/,
    );
    expect(bad('hello\nworld\n')).toThrow(/line 1: not a trace in any known format \(sumo-fcd: .*; one: .*; csv: /);
  });
});

describe('trips', () => {
  it('synthesises a trip along the whole road at a speed, and reports its crossings', () => {
    const trip = synthTrip(road, 72); // 20 m/s
    expect(tripSize(trip)).toEqual({ durationS: 100, lengthM: 2000 });
    expect(trip.points[1]).toEqual({ t: 1, x: 20, y: 0 });
    // Borders half-way between the edges, at 500 m and 1500 m (25 s, 75 s): a tie stays with the earlier edge, so 26 s and 76 s.
    expect(crossings(trip, road)).toEqual([
      { t: 26, from: 'edge-a', to: 'edge-b' },
      { t: 76, from: 'edge-b', to: 'edge-c' },
    ]);
  });
});

describe('latency model', () => {
  it('adds a backhaul hop per edge between the user’s cell and the service', () => {
    const profile = { name: 'urban-5g', radioMs: 4, perHopMs: 3 };
    expect(rttMs(profile, road, 'edge-a', 'edge-a')).toBe(4);
    expect(rttMs(profile, road, 'edge-c', 'edge-a')).toBe(10);
    expect(rttMs(profile, road, undefined, 'edge-a')).toBeUndefined();
  });
});
