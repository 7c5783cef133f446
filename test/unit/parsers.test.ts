import { describe, expect, it } from 'vitest';
import { isNotFound, parseDhcpLeases, parseDomState, parseNameList, parseVolList, virshArgv } from '../../provision/libvirt/virsh.js';
import { CommandError } from '../../common/errors.js';
import { lxcCheckconfigProblems } from '../../provision/testbed/readiness.js';
import { commandLine, shellQuote } from '../../common/ssh/quote.js';
import { linkShapingDropIn } from '../../provision/plan/seed-files.js';

describe('virsh output parsers', () => {
  it('lists names, volumes, states and leases', () => {
    expect(parseNameList(' a\n\nb \n')).toEqual(['a', 'b']);
    expect(parseVolList(' fm-a.qcow2   /p/fm-a.qcow2\n fm-b.iso  /p/fm-b.iso\n')).toEqual([
      { name: 'fm-a.qcow2', path: '/p/fm-a.qcow2' },
      { name: 'fm-b.iso', path: '/p/fm-b.iso' },
    ]);
    expect(parseDomState('shut off\n\n')).toBe('shut off');
    const leases =
      ' 2026-11-26 09:00:01   52:54:00:8F:69:b7   ipv4       10.77.10.10/24   fmtwo-edge-a   01:52:54:00:8f:69:b7\n' +
      ' 2026-11-26 09:00:03   52:54:00:d1:35:62   ipv4       10.77.10.11/24   -              -\n';
    expect(parseDhcpLeases(leases)).toEqual([
      { mac: '52:54:00:8f:69:b7', ip: '10.77.10.10' },
      { mac: '52:54:00:d1:35:62', ip: '10.77.10.11' },
    ]);
  });

  it('builds argv with the URI first and tells "not found" from other failures', () => {
    expect(virshArgv('qemu:///system', ['list', '--all'])).toEqual(['-q', '-c', 'qemu:///system', 'list', '--all']);
    const err = (stderr: string) => new CommandError({ host: 'h', argv: ['virsh'], exitCode: 1, stderr, durationMs: 1, timedOut: false });
    expect(isNotFound(err("error: failed to get domain 'x'"))).toBe(true);
    expect(isNotFound(err('error: Storage pool not found: no storage pool with matching name'))).toBe(true);
    expect(isNotFound(err('error: Permission denied'))).toBe(false);
  });
});

describe('remote commands', () => {
  it('quotes every argument so nothing is interpreted by the remote shell', () => {
    expect(shellQuote('criu')).toBe('criu');
    expect(shellQuote("it's; rm -rf /")).toBe(`'it'\\''s; rm -rf /'`);
    expect(commandLine(['sh', '-c', 'echo $HOME', 'x y'])).toBe(`sh -c 'echo $HOME' 'x y'`);
    expect(() => commandLine([])).toThrow();
  });
});

describe('lxc-checkconfig report', () => {
  it('finds required features that are missing, ignoring optional and cgroup v1 lines', () => {
    const out = [
      '--- Namespaces ---',
      'Namespaces: \x1b[1;32menabled\x1b[0m',
      'Network namespace: \x1b[1;31mmissing\x1b[0m',
      '--- Control groups ---',
      'Cgroup v1 freezer controller: missing',
      'CONFIG_MACVLAN: missing',
    ].join('\n');
    expect(lxcCheckconfigProblems(out)).toEqual(['Network namespace: missing']);
  });
});

describe('link shaping', () => {
  it('shapes the uplink with a token bucket of at least 32 KiB burst', () => {
    expect(linkShapingDropIn(1000)).toBe('[TokenBucketFilter]\nParent=root\nRate=1000M\nBurstBytes=500000\nLatencySec=50ms\n');
    expect(linkShapingDropIn(10)).toContain('BurstBytes=32768');
  });
});
