import { describe, expect, it } from 'vitest';
import { cpSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { debianRecipe, GUEST_PACKAGES, guestFilesDir, hashGuestFiles, recipeKey, workloadFilesDir } from '../../provision/image/recipe.js';
import { WORKLOAD_NAMES } from '../../workloads/types.js';
import { mkdirSync } from 'node:fs';
import { scratchDir } from '../scratch.js';

describe('image recipe', () => {
  it('has a stable key for the same recipe', () => {
    expect(recipeKey(debianRecipe())).toBe(recipeKey(debianRecipe()));
    expect(recipeKey(debianRecipe())).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes its key with the mirror, the packages or the guest files', () => {
    const base = debianRecipe();
    expect(recipeKey(debianRecipe({ mirror: 'http://mirror.example/debian' }))).not.toBe(recipeKey(base));
    expect(recipeKey({ ...base, packages: [...base.packages, 'tcpdump'] })).not.toBe(recipeKey(base));
    expect(recipeKey({ ...base, guestFiles: '0'.repeat(64) })).not.toBe(recipeKey(base));
  });

  it('hashes the guest files by name and content: one byte changed, a file added or renamed gives another hash', () => {
    const d = scratchDir('fm-guest-');
    cpSync(guestFilesDir(), d, { recursive: true });
    const same = hashGuestFiles(d);
    expect(same).toBe(debianRecipe().guestFiles);
    const init = join(d, 'followme-seed');
    writeFileSync(init, readFileSync(init, 'utf8').replace('#!/bin/', '#!/usr/bin/'));
    expect(hashGuestFiles(d)).not.toBe(same);
    cpSync(guestFilesDir(), d, { recursive: true });
    expect(hashGuestFiles(d)).toBe(same);
    writeFileSync(join(d, 'extra.conf'), '');
    expect(hashGuestFiles(d)).not.toBe(same);
    rmSync(join(d, 'extra.conf'));
    renameSync(join(d, 'followme-seed'), join(d, 'followme-seed2'));
    expect(hashGuestFiles(d)).not.toBe(same);
  });

  it('builds one container template per workload, each keyed by its packages and files (subdirectories too)', () => {
    const r = debianRecipe();
    expect(r.containers.map((c) => c.workload)).toEqual([...WORKLOAD_NAMES]);
    for (const c of r.containers) {
      expect(c.dir).toBe(`/var/lib/followme/templates/${c.workload}`);
      expect(c.files.map((f) => f.to)).toContain('/usr/local/sbin/followme-init');
      expect(c.filesHash).toBe(hashGuestFiles(workloadFilesDir(c.workload)));
    }
    expect(r.containers.find((c) => c.workload === 'video')!.packages).toContain('nginx');
    const d = scratchDir('fm-wl-');
    cpSync(workloadFilesDir('memory'), d, { recursive: true });
    const same = hashGuestFiles(d);
    mkdirSync(join(d, 'sub'));
    writeFileSync(join(d, 'sub', 'x'), '1');
    expect(hashGuestFiles(d)).not.toBe(same);
  });

  it('installs what the paper needs in every guest', () => {
    for (const p of ['lxc', 'criu', 'rsync', 'iptables', 'nfs-common', 'nfs-kernel-server', 'openssh-server']) {
      expect(GUEST_PACKAGES).toContain(p);
    }
  });
});
