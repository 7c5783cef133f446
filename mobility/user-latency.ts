// The user's latency, as an emulation. The controller (where the user's
// client and probe run) cannot delay anything here: its kernel has no netem
// (nor prio). So each edge delays its own answers to the controller: under
// the network profile's HTB root on its uplink (experiment/profiles.ts), a
// class for the controller's address whose netem delay is the round trip
// the user would see if the service ran on that edge. Whichever edge runs
// the service, its answers carry the right delay, through a migration too;
// as the user moves, each edge's delay is changed in place (tc qdisc
// change), so no connection sees its qdisc reset. argv builders only.
import { IPV4_PATTERN } from '../common/input/patterns.js';
import { LINK_NAME_PATTERN } from '../migration/criu/commands.js';

const IPV4 = new RegExp(IPV4_PATTERN);
/** tc reads plain decimals, to a thousandth. */
const ms = (x: number) => `${Number(x.toFixed(3))}ms`;

function check(dev: string, rttMs: number): void {
  if (!LINK_NAME_PATTERN.test(dev)) throw new Error(`not an interface name: ${JSON.stringify(dev)}`);
  if (!Number.isFinite(rttMs) || rttMs < 0 || rttMs > 10_000) throw new Error(`not a delay in ms: ${rttMs}`);
}

export const userLatency = {
  /** Under the profile's root (handle 1:), a class for the controller's address with its delay. */
  apply(dev: string, controllerIp: string, rttMs: number): string[][] {
    check(dev, rttMs);
    if (!IPV4.test(controllerIp)) throw new Error(`not an IPv4 address: ${JSON.stringify(controllerIp)}`);
    return [
      ['tc', 'class', 'add', 'dev', dev, 'parent', '1:', 'classid', '1:20', 'htb', 'rate', '100gbit'],
      ['tc', 'qdisc', 'add', 'dev', dev, 'parent', '1:20', 'handle', '20:', 'netem', 'limit', '10000', 'delay', ms(rttMs)],
      ['tc', 'filter', 'add', 'dev', dev, 'parent', '1:', 'protocol', 'ip', 'prio', '1', 'u32', 'match', 'ip', 'dst', `${controllerIp}/32`, 'flowid', '1:20'],
    ];
  },
  /** The delay changed as the user moves. */
  change(dev: string, rttMs: number): string[] {
    check(dev, rttMs);
    return ['tc', 'qdisc', 'change', 'dev', dev, 'parent', '1:20', 'handle', '20:', 'netem', 'limit', '10000', 'delay', ms(rttMs)];
  },
};
