import { describe, expect, it } from 'vitest';
import { debianRecipe, GUEST_PACKAGES, hashGuestFiles, recipeKey } from '../../provision/image/recipe.js';

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
    expect(base.guestFiles).toBe(hashGuestFiles());
  });

  it('installs what the paper needs in every guest', () => {
    for (const p of ['lxc', 'criu', 'rsync', 'iptables', 'nfs-common', 'nfs-kernel-server', 'openssh-server']) {
      expect(GUEST_PACKAGES).toContain(p);
    }
  });
});
