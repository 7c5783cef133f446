// The final dump's post-dump hook, run by sh against a sysfs tree of its own
// (FOLLOWME_SYSFS_NET): at post-dump it clears the up flag of the links it
// was given, never of one with a device behind it (a NIC) or of a bridge,
// does nothing at CRIU's other actions, and always exits 0 (a non-zero exit
// would make CRIU resume the container with its link down).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { postDumpHook } from '../../migration/criu/post-dump-hook.js';

const dir = mkdtempSync(join(tmpdir(), 'followme-hook-'));
const net = join(dir, 'net');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A link in the fake tree: its flags (UP, BROADCAST, MULTICAST, as the kernel shows them), and what sits beside them. */
function link(name: string, kind: 'veth' | 'nic' | 'bridge') {
  mkdirSync(join(net, name), { recursive: true });
  writeFileSync(join(net, name, 'flags'), '0x1003\n');
  if (kind === 'nic') mkdirSync(join(net, name, 'device'));
  if (kind === 'bridge') mkdirSync(join(net, name, 'bridge'));
}
const flags = (name: string) => readFileSync(join(net, name, 'flags'), 'utf8').trim();

beforeEach(() => {
  rmSync(net, { recursive: true, force: true });
  link('vethfF3S08', 'veth');
  link('ens2', 'nic');
  link('br0', 'bridge');
});

function runHook(links: string[], action: string): string {
  const script = join(dir, 'hook');
  writeFileSync(script, postDumpHook(links));
  chmodSync(script, 0o755);
  return execFileSync('sh', ['-c', '"$0" 2>&1', script], {
    env: { PATH: '/usr/bin:/bin', CRTOOLS_SCRIPT_ACTION: action, FOLLOWME_SYSFS_NET: net },
    encoding: 'utf8',
  });
}

describe('post-dump hook', () => {
  it('takes the container’s veth down at post-dump, and leaves a NIC, a bridge and an absent link alone', () => {
    const said = runHook(['vethfF3S08', 'ens2', 'br0', 'vethgone'], 'post-dump');
    // 0x1003 less IFF_UP (0x1), written back as a number the kernel's kstrtoul reads.
    expect(flags('vethfF3S08')).toBe(String(0x1002));
    expect(flags('ens2')).toBe('0x1003');
    expect(flags('br0')).toBe('0x1003');
    expect(said).toContain('vethfF3S08 down');
    for (const alone of ['ens2', 'br0', 'vethgone']) expect(said).toContain(`${alone} left alone`);
  });

  it('does nothing at CRIU’s other actions', () => {
    for (const action of ['pre-dump', 'network-lock', 'network-unlock', 'pre-restore']) {
      expect(runHook(['vethfF3S08'], action)).toBe('');
      expect(flags('vethfF3S08')).toBe('0x1003');
    }
  });

  it('refuses a link name a shell would read', () => {
    expect(() => postDumpHook(['veth$(reboot)'])).toThrow(/not an interface name/);
    expect(() => postDumpHook(["a'b"])).toThrow(/not an interface name/);
    for (const up of ['.', '..', '../x', 'a/b', 'veth0123456789abc']) expect(() => postDumpHook([up])).toThrow(/not an interface name/);
    expect(postDumpHook(['veth.1-a_b'])).toContain('down_link veth.1-a_b\n');
  });
});
