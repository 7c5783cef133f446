import { describe, expect, it } from 'vitest';
import { hostAddress, hostCount, netmask, parseIpv4, parseSubnet, subnetFromAddress, subnetsOverlap } from '../../common/net.js';

describe('IPv4 subnets', () => {
  it('parses network addresses and rejects host bits or bad octets', () => {
    expect(parseSubnet('10.77.10.0/24')).toMatchObject({ prefixLength: 24, network: parseIpv4('10.77.10.0') });
    expect(parseSubnet('10.77.10.5/24')).toBeUndefined();
    expect(parseSubnet('10.77.300.0/24')).toBeUndefined();
    expect(parseSubnet('10.77.10.0')).toBeUndefined();
    expect(parseSubnet('10.77.10.0/33')).toBeUndefined();
  });

  it('counts and numbers hosts', () => {
    const s = parseSubnet('192.168.5.0/28')!;
    expect(hostCount(s)).toBe(14);
    expect(hostAddress(s, 1)).toBe('192.168.5.1');
    expect(hostAddress(s, 14)).toBe('192.168.5.14');
    expect(() => hostAddress(s, 15)).toThrow(RangeError);
    expect(netmask(s)).toBe('255.255.255.240');
  });

  it('detects overlap in both directions and only then', () => {
    const a = parseSubnet('10.77.0.0/16')!;
    const b = parseSubnet('10.77.10.0/24')!;
    const c = parseSubnet('10.78.0.0/24')!;
    expect(subnetsOverlap(a, b)).toBe(true);
    expect(subnetsOverlap(b, a)).toBe(true);
    expect(subnetsOverlap(a, c)).toBe(false);
    expect(subnetFromAddress('10.77.10.77', 24)?.cidr).toBe('10.77.10.0/24');
  });
});
