import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { lxc, lxcConfig } from '../../migration/lxc/commands.js';
import { hostLinkOf, preparedNetwork, preparedNetworkOf } from '../../migration/lxc/network.js';

const config = lxcConfig({ name: 'svc1', rootfs: '/var/lib/lxc/svc1/rootfs', ip: '10.77.10.251', prefixLength: 24, mac: '52:54:00:aa:bb:cc', bridge: 'br0' });

describe('the prepared network', () => {
  it('gives every container a fixed host-side veth name the kernel accepts', () => {
    expect(config).toContain(`lxc.net.0.veth.pair = ${hostLinkOf('svc1')}\n`);
    expect(hostLinkOf('svc1')).toMatch(/^fm[0-9a-f]{12}$/);
    expect(hostLinkOf('svc1')).not.toBe(hostLinkOf('svc2'));
    expect(hostLinkOf('x'.repeat(63)).length).toBeLessThanOrEqual(15);
  });

  it('reads what the namespace must hold from the config lxcConfig writes', () => {
    expect(preparedNetworkOf('svc1', config)).toEqual({
      netns: 'followme-svc1',
      hostLink: hostLinkOf('svc1'),
      mac: '52:54:00:aa:bb:cc',
      address: '10.77.10.251/24',
    });
  });

  it('refuses a network it would not reproduce, saying which key', () => {
    const without = (key: string) => config.replace(new RegExp(`^lxc\\.net\\.0\\.${key.replace('.', '\\.')} = .*\n`, 'm'), '');
    expect(() => preparedNetworkOf('svc1', without('veth.pair'))).toThrow(/no lxc\.net\.0\.veth\.pair .*redeploy/);
    expect(() => preparedNetworkOf('svc1', without('hwaddr'))).toThrow(/no lxc\.net\.0\.hwaddr/);
    expect(() => preparedNetworkOf('svc1', `${config}lxc.net.1.type = veth\n`)).toThrow(/second network \(lxc\.net\.1\)/);
    expect(() => preparedNetworkOf('svc1', `${config}lxc.net.0.ipv4.gateway = 10.77.10.1\n`)).toThrow(/sets lxc\.net\.0\.ipv4\.gateway/);
    expect(() => preparedNetworkOf('svc1', config.replace('10.77.10.251/24', '10.77.10.251'))).toThrow(/ipv4\.address .*prefix length/);
    expect(() => preparedNetworkOf('svc1', config.replace('= veth\n', '= macvlan\n'))).toThrow(/lxc\.net\.0\.type is "macvlan", not veth/);
    expect(() => preparedNetworkOf('svc1', config.replace(/veth\.pair = .*/, 'veth.pair = a$(reboot)'))).toThrow(/not an interface name/);
  });

  it('passes every value as a positional parameter of constant scripts that sh parses', () => {
    const n = preparedNetworkOf('svc1', config);
    const prepare = preparedNetwork.prepare(n);
    expect(prepare.slice(3)).toEqual(['prepare-network', 'followme-svc1', hostLinkOf('svc1'), '52:54:00:aa:bb:cc', '10.77.10.251/24']);
    const restore = preparedNetwork.restore('svc1', '/w/dump', '/w/dump/lxc-restore.out', n);
    expect(restore.slice(3)).toEqual([
      'restore-prepared',
      'followme-svc1',
      hostLinkOf('svc1'),
      '52:54:00:aa:bb:cc',
      '10.77.10.251/24',
      'svc1',
      '/w/dump',
      'followme-net',
      '/w/dump/lxc-restore.out',
    ]);
    // The restore still runs lxc-checkpoint -n NAME -D DIR -r: a rollback's killRestore pattern finds it.
    expect(restore[2]).toContain('lxc-checkpoint -n "$5" -D "$6" -r 9<"/run/netns/$1"');
    // It prints the state after the restore (no round trip in the downtime to ask).
    expect(restore[2]).toMatch(/\|\| exit; exec lxc-info -n "\$5" -s -H$/);
    expect(lxc.killRestore('svc1', '/w')[3]).toBe('lxc-checkpoint -n svc1 -D /w/');
    for (const argv of [prepare, restore, preparedNetwork.forget('svc1')]) {
      expect(argv.slice(0, 2)).toEqual(['sh', '-c']);
      execFileSync('sh', ['-n', '-c', argv[2]!]);
    }
  });
});
