// The guest image recipe. Its hash is the cache key: change a package, a
// guest file or a step and the next build makes a new image; the same recipe
// is built once and reused.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../paths.js';
import { CONTAINER_TEMPLATE_DIR } from '../../common/guest.js';

/** Bump when a build step in build.ts changes what lands in the image (the data below is hashed anyway). */
export const RECIPE_VERSION = 4;
export const DEFAULT_MIRROR = 'http://deb.debian.org/debian';

/** What every node needs (issue #2): boot, network, SSH, LXC + CRIU, rsync, NFS. */
export const GUEST_PACKAGES = [
  'systemd-sysv',
  'udev',
  'kmod',
  'linux-image-amd64',
  'initramfs-tools',
  'openssh-server',
  'iproute2',
  'iputils-ping',
  'procps',
  'netbase',
  'less',
  'lxc',
  'criu',
  'iptables',
  'rsync',
  'python3',
  'nfs-common',
  'nfs-kernel-server',
  'zstd', // a fast-to-unpack initramfs: every TCG boot decompresses it
] as const;

/**
 * Units in the guest. Edges must not serve NFS (the seed starts it on the NFS
 * node); LXC's own NAT bridge is not wanted (containers join br0); lxc.service
 * only autostarts containers (the engine starts its own); the probes for DRM,
 * pstore and FUSE and the first-boot ldconfig cost seconds of every TCG boot.
 */
export const GUEST_UNITS = {
  enable: ['systemd-networkd.service', 'followme-seed.service', 'followme-report.service'],
  disable: ['nfs-server.service'],
  mask: [
    'systemd-networkd-wait-online.service',
    'lxc-net.service',
    'lxc.service',
    'ldconfig.service',
    'modprobe@drm.service',
    'modprobe@efi_pstore.service',
    'modprobe@fuse.service',
  ],
} as const;

export interface DebianRecipe {
  version: number;
  kind: 'debian';
  suite: 'trixie';
  mirror: string;
  variant: 'minbase';
  packages: readonly string[];
  rootfsSizeMiB: number;
  cmdline: string;
  /** systemd units to enable, disable and mask in the guest. */
  units: { enable: readonly string[]; disable: readonly string[]; mask: readonly string[] };
  /** Kernel modules in the initramfs (MODULES=list): only what mounts /dev/vda. */
  initramfsModules: readonly string[];
  /** The paper's "blank" container: a Debian root file system, kept in the guest as a template. */
  container: { template: string; packages: readonly string[] };
  /** sha256 of every file copied into the guest (provision/image/guest/). */
  guestFiles: string;
}

export interface CloudRecipe {
  version: number;
  kind: 'cloud-image';
  url: string;
  sha256: string;
}

export type Recipe = DebianRecipe | CloudRecipe;

export function guestFilesDir(): string {
  return join(projectRoot(), 'provision', 'image', 'guest');
}

export function hashGuestFiles(dir = guestFilesDir()): string {
  const h = createHash('sha256');
  for (const f of readdirSync(dir).sort())
    h.update(f)
      .update('\0')
      .update(readFileSync(join(dir, f)))
      .update('\0');
  return h.digest('hex');
}

export function debianRecipe(opts: { mirror?: string | undefined } = {}): DebianRecipe {
  return {
    version: RECIPE_VERSION,
    kind: 'debian',
    suite: 'trixie',
    mirror: opts.mirror ?? DEFAULT_MIRROR,
    variant: 'minbase',
    packages: GUEST_PACKAGES,
    rootfsSizeMiB: 3072,
    cmdline: 'root=/dev/vda rw console=ttyS0,115200 loglevel=4 systemd.show_status=1',
    units: GUEST_UNITS,
    initramfsModules: ['virtio_blk', 'ext4'],
    container: { template: CONTAINER_TEMPLATE_DIR, packages: ['busybox', 'iproute2'] },
    guestFiles: hashGuestFiles(),
  };
}

export function recipeKey(r: Recipe): string {
  return createHash('sha256').update(JSON.stringify(r)).digest('hex');
}
