// The guest image recipe. Its hash is the cache key: change a package, a
// guest file or a step and the next build makes a new image; the same recipe
// is built once and reused.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../common/paths.js';
import { containerTemplateDir } from '../../common/guest.js';
import { WORKLOADS } from '../../workloads/index.js';

/** Bump when a build step in build.ts changes what lands in the image (the data below is hashed anyway). */
export const RECIPE_VERSION = 6;
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
  /** One container template per workload (workloads/): a Debian root file system kept in the guest. */
  containers: readonly ContainerTemplateRecipe[];
  /** sha256 of every file copied into the guest (provision/image/guest/). */
  guestFiles: string;
}

export interface ContainerTemplateRecipe {
  workload: string;
  /** Where the template lives in the guest. */
  dir: string;
  packages: readonly string[];
  files: readonly { from: string; to: string; mode: number }[];
  /** sha256 of the workload's guest files (workloads/guest/<workload>/). */
  filesHash: string;
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

export function workloadFilesDir(workload: string): string {
  return join(projectRoot(), 'workloads', 'guest', workload);
}

/** sha256 over a directory tree: every file's relative path and content. */
export function hashGuestFiles(dir = guestFilesDir()): string {
  const h = createHash('sha256');
  const walk = (rel: string) => {
    for (const f of readdirSync(join(dir, rel)).sort()) {
      const path = rel ? `${rel}/${f}` : f;
      if (statSync(join(dir, path)).isDirectory()) walk(path);
      else
        h.update(path)
          .update('\0')
          .update(readFileSync(join(dir, path)))
          .update('\0');
    }
  };
  walk('');
  return h.digest('hex');
}

export function containerTemplates(): ContainerTemplateRecipe[] {
  return Object.values(WORKLOADS).map((w) => ({
    workload: w.name,
    dir: containerTemplateDir(w.name),
    packages: w.template.packages,
    files: w.template.files,
    filesHash: hashGuestFiles(workloadFilesDir(w.name)),
  }));
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
    containers: containerTemplates(),
    guestFiles: hashGuestFiles(),
  };
}

export function recipeKey(r: Recipe): string {
  return createHash('sha256').update(JSON.stringify(r)).digest('hex');
}
