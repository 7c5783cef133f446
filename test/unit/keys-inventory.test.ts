import { statSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureTestbedKeys, generateKeyPair, isUsableKeyPair } from '../../provision/testbed/keys.js';
import { readInventory, validateInventory } from '../../common/inventory.js';
import { inventoryFromPlan, writeInventory } from '../../provision/testbed/inventory.js';
import { buildPlan } from '../../provision/plan/plan.js';
import { ConfigError } from '../../common/errors.js';
import { pinnedKeyBlob } from '../../common/ssh/transport.js';
import { image, twoVm } from './fixtures.js';
import { scratchDir } from '../scratch.js';

describe('testbed keys', () => {
  it('creates ed25519 keys once, private ones with mode 0600, and reuses them', () => {
    const dir = scratchDir('fm-keys-');
    const k1 = ensureTestbedKeys(dir, 'fmtest', ['edge-a', 'edge-b']);
    const k2 = ensureTestbedKeys(dir, 'fmtest', ['edge-a', 'edge-b']);
    expect(k2).toEqual(k1);
    for (const p of [k1.client.privateKeyPath, k1.hosts['edge-a']!.privateKeyPath]) {
      expect(statSync(p).mode & 0o777).toBe(0o600);
      expect(readFileSync(p, 'utf8')).toContain('OPENSSH PRIVATE KEY');
    }
    expect(statSync(join(dir, 'keys')).mode & 0o777).toBe(0o700);
    expect(k1.hosts['edge-a']!.publicKey).toMatch(/^ssh-ed25519 /);
    expect(k1.hosts['edge-a']!.publicKey).not.toBe(k1.hosts['edge-b']!.publicKey);
    expect(pinnedKeyBlob(k1.hosts['edge-a']!.publicKey).length).toBeGreaterThan(32);
  });
});

describe('key generation', () => {
  it('throws away the malformed pairs ssh2 sometimes makes (31-byte keys)', () => {
    // A public key ssh2 generated here, whose blob holds 31 bytes instead of 32.
    const malformed = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAH/OzuM+dvQQhZlrJBBZ35vfBZa40hzdhfUXePEgMFH4= root@x';
    const good = generateKeyPair('root@x');
    expect(isUsableKeyPair(good)).toBe(true);
    expect(isUsableKeyPair({ ...good, public: malformed })).toBe(false);
    // Enough pairs that a malformed one (about 1 in 180) would almost surely turn up unfiltered.
    for (let i = 0; i < 600; i++) expect(isUsableKeyPair(generateKeyPair('root@x'))).toBe(true);
  });
});

describe('inventory', () => {
  it('round-trips through its schema and holds no private key material', () => {
    const dir = scratchDir('fm-inv-');
    const t = twoVm();
    const keys = ensureTestbedKeys(
      dir,
      t.prefix,
      t.nodes.map((n) => n.name),
    );
    const inv = inventoryFromPlan(buildPlan({ topology: t, image, keys, hypervisors: { 'qemu:///system': 'qemu' } }), 'two-vm');
    const path = join(dir, 'inventory.json');
    writeInventory(path, inv);
    expect(readInventory(path)).toEqual(inv);
    expect(readFileSync(path, 'utf8')).not.toContain('PRIVATE KEY');
    expect(inv.nodes[0]!.privateKeyPath).toBe(keys.client.privateKeyPath);
  });

  it('refuses a file that is not an inventory, naming the file', () => {
    expect(() => validateInventory({ version: 1, nodes: [] }, 'x.json')).toThrow(ConfigError);
    expect(() => validateInventory({ version: 2 }, 'x.json')).toThrow(/x\.json: not a usable followme inventory/);
    expect(() => readInventory('/nonexistent/inventory.json')).toThrow(/cannot read inventory \/nonexistent/);
  });
});
