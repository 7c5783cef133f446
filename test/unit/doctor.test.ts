// The doctor's pure parts: which accelerator it reports and why, who needs
// each CRIU feature (from the registry), its line format, and its flags
// checked before anything is asked.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkLine, fail, guarded, ok } from '../../doctor/check.js';
import { featureUsers } from '../../doctor/edges.js';
import { hypervisorCheck } from '../../doctor/host.js';
import { cli, STACK_TRACE } from '../cli-run.js';
import { scratchDir } from '../scratch.js';

describe('the hypervisor check', () => {
  const sys = () => {
    const d = scratchDir('fm-doctor-');
    mkdirSync(join(d, 'module'));
    return { devKvm: join(d, 'kvm'), modules: join(d, 'module') };
  };

  it('says TCG without /dev/kvm', () => {
    const c = hypervisorCheck(sys());
    expect(c).toMatchObject({ verdict: 'warn', detail: expect.stringMatching(/^TCG: no \/dev\/kvm/) });
  });

  it('says TCG, and why, when KVM is kvm-pvm', () => {
    const s = sys();
    writeFileSync(s.devKvm, '');
    mkdirSync(join(s.modules, 'kvm_pvm'));
    expect(hypervisorCheck(s)).toMatchObject({ verdict: 'warn', detail: expect.stringMatching(/kvm-pvm.*only PVM guest kernels/) });
  });

  it('says KVM when /dev/kvm is there and it is not kvm-pvm', () => {
    const s = sys();
    writeFileSync(s.devKvm, '');
    mkdirSync(join(s.modules, 'kvm_intel'));
    expect(hypervisorCheck(s).verdict).toBe('ok');
  });
});

it('knows which strategies need each CRIU feature, from what they declare', () => {
  const users = featureUsers();
  expect(users.get('uffd-noncoop')).toEqual(['postcopy', 'hybrid']);
  expect(users.get('network_lock_nftables')).toEqual(['lean', 'sharedlean', 'postcopy', 'hybrid']);
  expect(users.get('mem_dirty_track')).toContain('tmpfs');
});

it('prints one line per check, the fix after the detail; a check that throws is a failure with its message', async () => {
  expect(checkLine(ok('edge-a', 'criu check', 'Looks good.'))).toBe('ok    edge-a            criu check: Looks good.');
  expect(checkLine(fail('host', 'disk', '1.0 GiB free', 'free space'))).toBe('fail  host              disk: 1.0 GiB free — fix: free space');
  const thrown = await guarded('edge-b', 'versions', 'rebuild the image', async () => {
    throw new Error('edge-b: ssh: connection refused\nmore');
  });
  expect(thrown).toEqual([fail('edge-b', 'versions', 'edge-b: ssh: connection refused', 'rebuild the image')]);
});

describe('doctor flags', () => {
  it('takes one of --stack, --config and --inventory: exit 2 naming both, nothing asked', async () => {
    const r = await cli(['doctor', '--stack', 'two-vm', '--inventory', '/nonexistent.json']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--stack and --inventory: give one of --stack, --config or --inventory/);
    expect(r.err).not.toMatch(STACK_TRACE);
  });

  it('refuses an unknown stack with the known ones', async () => {
    const r = await cli(['doctor', '--stack', 'four-vm']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--stack: unknown stack "four-vm"; known stacks: /);
  });
});
