// Test helper: a fresh directory under the OS temp dir, removed when the
// current test finishes, so test runs leave nothing behind in /tmp. Before
// it is removed, everything the test wrote there is scanned for private-key
// material (keys may only sit in files of their own, mode 0600): a finding
// fails the test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { scanForKeyMaterial } from './harness/secret-scan.js';

export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => {
    const { findings } = scanForKeyMaterial([dir]);
    rmSync(dir, { recursive: true, force: true });
    if (findings.length) throw new Error(`private-key material in files this test wrote:\n  ${findings.join('\n  ')}`);
  });
  return dir;
}
