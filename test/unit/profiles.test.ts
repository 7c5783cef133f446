// Network profiles as tc commands: the rate on an HTB class, delay, jitter,
// loss and seed on netem under it, and only traffic to the other nodes sent
// through it.
import { describe, expect, it } from 'vitest';
import { parsePingRtt } from '../../experiment/network.js';
import { BUILTIN_PROFILES, describeProfile, shapeCommands } from '../../experiment/profiles.js';

const profile = (name: string) => BUILTIN_PROFILES.find((p) => p.name === name)!;

describe('shapeCommands', () => {
  it('gigabit: a 1 Gbit/s class, netem without delay or loss, a filter per peer', () => {
    const cmds = shapeCommands('enp1s0', ['10.77.20.11', '10.77.20.12'], profile('gigabit')).map((c) => c.join(' '));
    expect(cmds).toEqual([
      'tc qdisc del dev enp1s0 root',
      'tc qdisc add dev enp1s0 root handle 1: htb default 99',
      'tc class add dev enp1s0 parent 1: classid 1:99 htb rate 100gbit',
      'tc class add dev enp1s0 parent 1: classid 1:10 htb rate 1000000kbit ceil 1000000kbit',
      'tc qdisc add dev enp1s0 parent 1:10 handle 10: netem limit 10000',
      'tc filter add dev enp1s0 parent 1: protocol ip prio 1 u32 match ip dst 10.77.20.11/32 flowid 1:10',
      'tc filter add dev enp1s0 parent 1: protocol ip prio 1 u32 match ip dst 10.77.20.12/32 flowid 1:10',
    ]);
  });

  it('cellular backhaul: delay with jitter, random loss, a fixed seed', () => {
    const netem = shapeCommands('eth0', ['10.0.0.2'], profile('cellular-backhaul')).find((c) => c.includes('netem'))!;
    expect(netem.join(' ')).toBe('tc qdisc add dev eth0 parent 1:10 handle 10: netem limit 10000 delay 20ms 5ms loss random 0.1% seed 5');
    expect(describeProfile(profile('cellular-backhaul'))).toBe('50 Mbit/s, 20 ms ± 5 ms delay, 0.1% loss');
  });

  it('refuses a peer that is not an IPv4 address', () => {
    expect(() => shapeCommands('eth0', ['10.0.0.2; reboot'], profile('gigabit'))).toThrow(/not an IPv4 address/);
  });
});

describe('parsePingRtt', () => {
  it("reads ping's summary line", () => {
    const out =
      '--- 10.77.20.12 ping statistics ---\n10 packets transmitted, 10 received, 0% packet loss, time 1811ms\nrtt min/avg/max/mdev = 1.721/3.619/9.102/2.130 ms\n';
    expect(parsePingRtt(out)).toEqual({ min: 1.721, avg: 3.619, max: 9.102 });
    expect(() => parsePingRtt('100% packet loss')).toThrow(/no round-trip summary/);
  });
});
