import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildPlan } from '../../provision/plan/plan.js';
import { renderSeedFile } from '../../provision/libvirt/seed-iso.js';
import { ensureTestbedKeys } from '../../provision/testbed/keys.js';
import { readFileSync } from 'node:fs';
import { image, twoVm } from './fixtures.js';

describe('seed files', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fm-seed-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const t = twoVm();
  const keys = ensureTestbedKeys(
    dir,
    t.prefix,
    t.nodes.map((n) => n.name),
  );
  const plan = buildPlan({ topology: t, image, keys, hypervisors: { 'qemu:///system': 'qemu' } });
  const seed = plan.volumes.find((v) => v.name === 'fmtest-edge-a-seed.iso')!;
  const files = seed.source === 'seed' ? seed.files : [];
  const file = (path: string) => renderSeedFile(files.find((f) => f.path === path)!);

  it('gives a cloud image valid cloud-config with the pinned host key and the controller key', async () => {
    const userData = await file('user-data');
    expect(userData.startsWith('#cloud-config\n')).toBe(true);
    const doc = parse(userData) as Record<string, unknown>;
    expect(doc['hostname']).toBe('fmtest-edge-a');
    expect(doc['ssh_authorized_keys']).toEqual([keys.client.publicKey]);
    const sshKeys = doc['ssh_keys'] as Record<string, string>;
    expect(sshKeys['ed25519_private']).toBe(readFileSync(keys.hosts['edge-a']!.privateKeyPath, 'utf8'));
    expect(sshKeys['ed25519_public']).toBe(keys.hosts['edge-a']!.publicKey);
    expect(files.find((f) => f.path === 'user-data')!.mode).toBe(0o600);
  });

  it('gives our image its hostname, hosts, role, bridge MAC and link rate', async () => {
    expect(await file('followme/hostname')).toBe('fmtest-edge-a\n');
    expect(await file('followme/hosts')).toBe('10.77.10.10 edge-a fmtest-edge-a\n10.77.10.11 edge-b fmtest-edge-b\n');
    expect(await file('followme/role')).toBe('edge\n');
    expect(await file('followme/br0.netdev.d/followme-mac.conf')).toBe(`[NetDev]\nMACAddress=${plan.nodes[0]!.mac}\n`);
    expect(await file('followme/uplink.network.d/followme-rate.conf')).toContain('Rate=1000M');
    expect(await file('followme/ssh_host_ed25519_key')).toContain('OPENSSH PRIVATE KEY');
  });
});
