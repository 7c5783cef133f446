// The secret scan itself: it must find key material wherever it leaks, or
// the scans of the test run's files would prove nothing.
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanForKeyMaterial } from '../harness/secret-scan.js';
import { generateKeyPair } from '../../provision/testbed/keys.js';
import { scratchDir } from '../scratch.js';
import { projectRoot } from '../../common/paths.js';

describe('secret scan', () => {
  it('passes a key in its own 0600 file next to an inventory that only names it', () => {
    const d = scratchDir('fm-scan-ok-');
    const k = generateKeyPair('t');
    writeFileSync(join(d, 'id_ed25519'), k.private, { mode: 0o600 });
    writeFileSync(join(d, 'inventory.json'), JSON.stringify({ privateKeyPath: join(d, 'id_ed25519'), hostPublicKey: k.public }));
    const r = scanForKeyMaterial([d]);
    expect(r.findings).toEqual([]);
    expect(r.keyFiles).toEqual([join(d, 'id_ed25519')]);
  });

  it('finds a key block in a record, a key line escaped in a log, a loose key file and a headerless body', () => {
    const d = scratchDir('fm-scan-bad-');
    const k = generateKeyPair('t');
    const keys = join(d, 'keys');
    mkdirSync(keys);
    writeFileSync(join(keys, 'id_ed25519'), k.private, { mode: 0o600 });
    writeFileSync(join(d, 'record.jsonl'), `${JSON.stringify({ note: k.private })}\n`);
    const line = k.private.split('\n')[2]!;
    writeFileSync(join(d, 'console.log'), `seed: wrote ${line.slice(0, 60)}${line.slice(60)}\n`);
    writeFileSync(join(d, 'loose_key'), k.private);
    chmodSync(join(d, 'loose_key'), 0o644);
    const body = k.private
      .split('\n')
      .filter((l) => !l.startsWith('-----'))
      .join('');
    writeFileSync(join(d, 'dump.txt'), `key=${body}\n`);
    const r = scanForKeyMaterial([d]);
    const where = r.findings.map((f) => f.split(':')[0]!.slice(d.length + 1)).sort();
    expect(where).toEqual(['console.log', 'dump.txt', 'loose_key', 'record.jsonl']);
    chmodSync(join(d, 'loose_key'), 0o600);
    writeFileSync(join(d, 'record.jsonl'), '{}\n');
    writeFileSync(join(d, 'console.log'), 'clean\n');
    writeFileSync(join(d, 'dump.txt'), 'clean\n');
  });

  it('finds nothing in the project’s own files (a committed key, or the magic in a source that vitest caches with its source map)', () => {
    const root = projectRoot();
    const tracked = ['README.md', 'package.json', 'cli', 'common', 'migration', 'provision', 'stacks', 'test'].map((p) => join(root, p));
    const r = scanForKeyMaterial(tracked);
    expect(r.findings).toEqual([]);
    expect(r.keyFiles).toEqual([]);
    expect(r.scannedFiles).toBeGreaterThan(100);
  });
});
