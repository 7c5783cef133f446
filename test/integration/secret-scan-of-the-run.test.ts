// Runs last (vitest.config.ts): every file this test run wrote outside the
// per-test scratch dirs (which are scanned as each test ends) is scanned for
// private-key material: the testbeds' state (inventories beside their keys),
// libvirt's logs and the VMs' serial consoles, the run's own temp dir, and
// the CLI's default results dir. Keys may sit only in their own 0600 files.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../common/paths.js';
import { scanForKeyMaterial } from '../harness/secret-scan.js';

describe('secret scan of the whole run', () => {
  it('finds private keys only in their own 0600 files: none in inventories, records, logs or temp files', () => {
    const state = process.env['FOLLOWME_STATE_DIR'];
    expect(state, 'the sandbox sets FOLLOWME_STATE_DIR').toBeTruthy();
    const roots = [state!, '/var/log/libvirt', join(projectRoot(), 'followme-results')];
    const runTmp = process.env['FOLLOWME_TEST_TMPDIR'];
    if (runTmp) roots.push(runTmp);
    const r = scanForKeyMaterial(roots.filter(existsSync));
    expect(r.findings).toEqual([]);
    // The scan saw what it is meant to see: the testbed's keys and inventories (the corridor's and its two-edge view), and the console logs.
    expect(r.keyFiles.filter((f) => f.endsWith('/keys/id_ed25519'))).toHaveLength(1);
    expect(r.scannedFiles).toBeGreaterThan(r.keyFiles.length + 2);
  });
});
