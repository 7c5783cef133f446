// Network profiles of the edge-to-edge path (the testbed's backhaul): link
// rate, delay, jitter and loss, applied with tc in each edge on its uplink
// for traffic to the other testbed nodes only (the controller's probe and
// client reach the container unshaped, as a user's radio link would be a
// separate hop). An HTB class holds the rate; netem under it the rest.
import { type Static, Type } from '@sinclair/typebox';
import { IPV4_PATTERN } from '../common/input/patterns.js';

export const PROFILE_NAME_PATTERN = '^[a-z][a-z0-9-]{0,31}$';

export const ProfileSchema = Type.Object(
  {
    name: Type.String({ pattern: PROFILE_NAME_PATTERN }),
    /** Link rate, Mbit/s; tc takes it in whole kbit/s, so at least 0.01 (10 kbit/s). */
    rateMbit: Type.Number({ minimum: 0.01, maximum: 100_000 }),
    /** One-way delay added on each edge's egress, ms. */
    delayMs: Type.Optional(Type.Number({ minimum: 0, maximum: 10_000 })),
    jitterMs: Type.Optional(Type.Number({ minimum: 0, maximum: 10_000 })),
    lossPercent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    /** netem's random seed: the same loss and jitter pattern on every run. */
    seed: Type.Optional(Type.Integer({ minimum: 0, maximum: 2 ** 32 - 1 })),
  },
  { additionalProperties: false },
);
export type Profile = Static<typeof ProfileSchema>;

/** The profiles a plan can name: the paper's link, a slower LAN, and a lossy, delayed backhaul. */
export const BUILTIN_PROFILES: readonly Profile[] = [
  { name: 'gigabit', rateMbit: 1000 },
  { name: 'fast-ethernet', rateMbit: 100 },
  { name: 'cellular-backhaul', rateMbit: 50, delayMs: 20, jitterMs: 5, lossPercent: 0.1, seed: 5 },
];

/** One line for reports: "100 Mbit/s, 20 ms ± 5 ms, 0.1% loss". */
export function describeProfile(p: Profile): string {
  const parts = [`${p.rateMbit >= 1000 ? `${p.rateMbit / 1000} Gbit/s` : `${p.rateMbit} Mbit/s`}`];
  if (p.delayMs) parts.push(`${p.delayMs} ms${p.jitterMs ? ` ± ${p.jitterMs} ms` : ''} delay`);
  if (p.lossPercent) parts.push(`${p.lossPercent}% loss`);
  return parts.join(', ');
}

/** A number as tc reads it: plain decimals, never an exponent (1e-7 would reach tc as written), to a thousandth. */
const num = (x: number) => String(Number(x.toFixed(3)));
const IPV4 = new RegExp(IPV4_PATTERN);

/**
 * The tc commands that shape `dev`'s egress to `peers` with `p` (argv each,
 * run in order). Everything else leaves through the default class, unshaped.
 */
export function shapeCommands(dev: string, peers: readonly string[], p: Profile): string[][] {
  for (const ip of peers) if (!IPV4.test(ip)) throw new Error(`not an IPv4 address: ${JSON.stringify(ip)}`);
  const rate = `${Math.round(p.rateMbit * 1000)}kbit`;
  const netem = ['netem', 'limit', '10000'];
  if (p.delayMs || p.jitterMs) netem.push('delay', `${num(p.delayMs ?? 0)}ms`, ...(p.jitterMs ? [`${num(p.jitterMs)}ms`] : []));
  if (p.lossPercent) netem.push('loss', 'random', `${num(p.lossPercent)}%`);
  if (p.seed !== undefined) netem.push('seed', num(p.seed));
  return [
    ...clearCommands(dev),
    ['tc', 'qdisc', 'add', 'dev', dev, 'root', 'handle', '1:', 'htb', 'default', '99'],
    ['tc', 'class', 'add', 'dev', dev, 'parent', '1:', 'classid', '1:99', 'htb', 'rate', '100gbit'],
    ['tc', 'class', 'add', 'dev', dev, 'parent', '1:', 'classid', '1:10', 'htb', 'rate', rate, 'ceil', rate],
    ['tc', 'qdisc', 'add', 'dev', dev, 'parent', '1:10', 'handle', '10:', ...netem],
    ...peers.map((ip) => [
      'tc',
      'filter',
      'add',
      'dev',
      dev,
      'parent',
      '1:',
      'protocol',
      'ip',
      'prio',
      '1',
      'u32',
      'match',
      'ip',
      'dst',
      `${ip}/32`,
      'flowid',
      '1:10',
    ]),
  ];
}

/** Back to the kernel's default qdisc (absent is fine: run with failures allowed). */
export function clearCommands(dev: string): string[][] {
  return [['tc', 'qdisc', 'del', 'dev', dev, 'root']];
}
