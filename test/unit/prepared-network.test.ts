import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lxc, lxcConfig } from '../../migration/lxc/commands.js';
import { scratchDir } from '../scratch.js';
import { hostLinkFor, preparedNetwork, preparedNetworkOf } from '../../migration/lxc/network.js';

const config = lxcConfig({ name: 'svc1', rootfs: '/var/lib/lxc/svc1/rootfs', ip: '10.77.10.251', prefixLength: 24, mac: '52:54:00:aa:bb:cc', bridge: 'br0' });

const link = hostLinkFor('20261207T105346Z-lean-svc1-69828f', 'edge-b');

describe('the prepared network', () => {
  it('names the host end afresh for each migration and edge, as the kernel allows', () => {
    expect(link).toMatch(/^fm[0-9a-f]{12}$/);
    // A rollback's restore on the source gets another name than the destination's: LXC's monitor of the dumped copy deletes its own by name.
    expect(hostLinkFor('20261207T105346Z-lean-svc1-69828f', 'edge-a')).not.toBe(link);
    expect(hostLinkFor('20261207T105409Z-lean-svc1-5567b5', 'edge-b')).not.toBe(link);
    expect(config).not.toContain('veth.pair');
  });

  it('reads what the namespace must hold from the config lxcConfig writes', () => {
    expect(preparedNetworkOf('svc1', config, link)).toEqual({ netns: 'followme-svc1', hostLink: link, mac: '52:54:00:aa:bb:cc', address: '10.77.10.251/24' });
    // A name left by an earlier restore does not matter: the restore appends its own, and the last one counts.
    expect(preparedNetworkOf('svc1', `${config}lxc.net.0.veth.pair = fmold\n`, link).hostLink).toBe(link);
    // A testbed across hosts sets the MTU: the preparation gives both ends the bridge's.
    expect(preparedNetworkOf('svc1', `${config}lxc.net.0.mtu = 1450\n`, link).address).toBe('10.77.10.251/24');
  });

  it('refuses a network it would not reproduce, saying which key', () => {
    const without = (key: string) => config.replace(new RegExp(`^lxc\\.net\\.0\\.${key.replace('.', '\\.')} = .*\n`, 'm'), '');
    expect(() => preparedNetworkOf('svc1', without('hwaddr'), link)).toThrow(/no lxc\.net\.0\.hwaddr/);
    expect(() => preparedNetworkOf('svc1', `${config}lxc.net.1.type = veth\n`, link)).toThrow(/second network \(lxc\.net\.1\)/);
    expect(() => preparedNetworkOf('svc1', `${config}lxc.net.0.ipv4.gateway = 10.77.10.1\n`, link)).toThrow(/sets lxc\.net\.0\.ipv4\.gateway/);
    expect(() => preparedNetworkOf('svc1', config.replace('10.77.10.251/24', '10.77.10.251'), link)).toThrow(/ipv4\.address .*prefix length/);
    expect(() => preparedNetworkOf('svc1', config.replace('= veth\n', '= macvlan\n'), link)).toThrow(/lxc\.net\.0\.type is "macvlan", not veth/);
    expect(() => preparedNetworkOf('svc1', config, 'a$(reboot)')).toThrow(/not an interface name/);
  });

  it('passes every value as a positional parameter of constant scripts that sh parses', () => {
    const n = preparedNetworkOf('svc1', config, link);
    const prepare = preparedNetwork.prepare(n);
    expect(prepare.slice(3)).toEqual(['prepare-network', 'followme-svc1', link, '52:54:00:aa:bb:cc', '10.77.10.251/24']);
    const restore = preparedNetwork.restore('svc1', '/w/dump', '/w/dump/lxc-restore.out', n);
    expect(restore.slice(3)).toEqual([
      'restore-prepared',
      'followme-svc1',
      link,
      '52:54:00:aa:bb:cc',
      '10.77.10.251/24',
      'svc1',
      '/w/dump',
      'followme-net',
      '/w/dump/lxc-restore.out',
      '/var/lib/lxc/svc1/config',
    ]);
    // The host end's name goes into the config before lxc-checkpoint reads it.
    expect(restore[2]).toContain('printf "lxc.net.0.veth.pair = %s\\n" "$2" >>"$9"');
    // The restore still runs lxc-checkpoint -n NAME -D DIR -r: a rollback's killRestore pattern finds it.
    expect(restore[2]).toContain('lxc-checkpoint -n "$5" -D "$6" -r 9<"/run/netns/$1"');
    // It prints the state after the restore (no round trip in the downtime to ask).
    expect(restore[2]).toMatch(/\|\| exit; exec lxc-info -n "\$5" -s -H$/);
    expect(lxc.killRestore('svc1', '/w')[3]).toBe('lxc-checkpoint -n svc1 -D /w/');
    expect(preparedNetwork.forget('svc1').slice(3)).toEqual(['forget-network', 'followme-svc1', '/var/lib/lxc/svc1/config']);
    for (const argv of [prepare, restore, preparedNetwork.forget('svc1')]) {
      expect(argv.slice(0, 2)).toEqual(['sh', '-c']);
      execFileSync('sh', ['-n', '-c', argv[2]!]);
    }
  });

  it('takes the name out of the config again, and only that line', () => {
    const d = scratchDir('fm-forget-');
    const file = join(d, 'config');
    writeFileSync(file, `${config}lxc.net.0.veth.pair = ${link}\n`);
    // The namespace is not there (no /run/netns/followme-…): only the config changes.
    execFileSync('sh', ['-c', preparedNetwork.forget('svc1')[2]!, 'forget', 'followme-not-here', file]);
    expect(readFileSync(file, 'utf8')).toBe(config);
  });
});
