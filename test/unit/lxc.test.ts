import { describe, expect, it } from 'vitest';
import { lxc, lxcConfig, parseState } from '../../migration/lxc/commands.js';

describe('LXC seam', () => {
  it('builds argv, never shell strings', () => {
    expect(lxc.start('svc1')).toEqual(['lxc-start', '-n', 'svc1', '-d']);
    expect(lxc.state('svc1')).toEqual(['lxc-info', '-n', 'svc1', '-s', '-H']);
    expect(lxc.stop('svc1', 5)).toEqual(['lxc-stop', '-n', 'svc1', '-t', '5']);
  });

  it('parses the state lxc-info prints', () => {
    expect(parseState('RUNNING\n')).toBe('RUNNING');
    expect(parseState('STOPPED')).toBe('STOPPED');
    expect(parseState('weird')).toBeUndefined();
  });

  it('bridges the container onto the edge with a fixed address and MAC, no console', () => {
    const cfg = lxcConfig({ name: 'svc1', rootfs: '/var/lib/lxc/svc1/rootfs', ip: '10.77.10.251', prefixLength: 24, mac: '52:54:00:aa:bb:cc', bridge: 'br0' });
    expect(cfg).toContain('lxc.rootfs.path = dir:/var/lib/lxc/svc1/rootfs\n');
    expect(cfg).toContain('lxc.net.0.link = br0\n');
    expect(cfg).toContain('lxc.net.0.hwaddr = 52:54:00:aa:bb:cc\n');
    expect(cfg).toContain('lxc.net.0.ipv4.address = 10.77.10.251/24\n');
    expect(cfg).toContain('lxc.console.path = none\n');
    expect(cfg).toContain('lxc.init.cmd = /usr/local/sbin/followme-init\n');
    expect(cfg).not.toContain('lxc.net.0.mtu');
  });

  it("takes the testbed's MTU when it spans hosts, and refuses one that is not an MTU", () => {
    const spec = { name: 'svc1', rootfs: '/var/lib/lxc/svc1/rootfs', ip: '10.77.10.251', prefixLength: 24, mac: '52:54:00:aa:bb:cc', bridge: 'br0' };
    expect(lxcConfig({ ...spec, mtu: 1450 })).toContain('lxc.net.0.mtu = 1450\n');
    expect(() => lxcConfig({ ...spec, mtu: 70000 })).toThrow(/mtu "70000" is not a plain mtu/);
  });
});

describe('killing a restore', () => {
  it('matches that container’s restore from that directory literally, not a name the dot would also match', () => {
    const [, , , pattern] = lxc.killRestore('web.1', '/tmp/followme-migrations/m-web.1');
    const re = new RegExp(pattern!);
    expect(re.test('lxc-checkpoint -n web.1 -D /tmp/followme-migrations/m-web.1/dump -r')).toBe(true);
    expect(re.test('lxc-checkpoint -n web11 -D /tmp/followme-migrations/m-web.1/dump -r')).toBe(false);
    expect(re.test('lxc-checkpoint -n web.1 -D /tmp/followme-migrations/m-webx1/dump -r')).toBe(false);
  });
});
