// Builds the guest image offline from Debian's archive (debootstrap), into a
// content-addressed cache outside the work tree:
//   <cache>/images/<recipe key>/{rootfs.qcow2,vmlinuz,initrd.img,recipe.json}
// The directory appears atomically (built under a temp name, then renamed),
// so a crashed build never poisons the cache. cache.ts keeps it small.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, rename, rm, writeFile, readFile, open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { runLocal } from '../../common/exec.js';
import { CommandError, FollowmeError } from '../../common/errors.js';
import { cacheDir } from '../../common/paths.js';
import { IMAGES_KEPT, pruneImages, stampUse } from './cache.js';
import type { GuestImage } from '../plan/plan.js';
import {
  debianRecipe,
  guestFilesDir,
  recipeKey,
  workloadFilesDir,
  type CloudRecipe,
  type ContainerTemplateRecipe,
  type DebianRecipe,
  type Recipe,
} from './recipe.js';
import type { Topology } from '../topology/schema.js';

export type Log = (line: string) => void;

export interface BuildResult {
  image: GuestImage;
  cacheHit: boolean;
  durationMs: number;
}

async function run(log: Log, argv: string[], opts: { timeoutMs?: number } = {}): Promise<string> {
  const r = await runLocal(argv, { timeoutMs: opts.timeoutMs ?? 30 * 60_000, env: { DEBIAN_FRONTEND: 'noninteractive' } });
  log(`  ${argv[0]} done in ${(r.durationMs / 1000).toFixed(1)} s`);
  return r.stdout;
}

export function recipeFor(t: Topology): Recipe {
  return t.image.kind === 'debian' ? debianRecipe({ mirror: t.image.mirror }) : { version: 1, kind: 'cloud-image', url: t.image.url, sha256: t.image.sha256 };
}

function imageFromDir(dir: string, key: string, r: Recipe): GuestImage {
  if (r.kind === 'debian') {
    return { key, rootfs: join(dir, 'rootfs.qcow2'), kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.img'), cmdline: r.cmdline };
  }
  return { key, rootfs: join(dir, 'rootfs.qcow2') };
}

/** Stamps the image just used and removes the least recently used beyond IMAGES_KEPT; a failure here only warns. */
async function keepRecent(images: string, key: string, log: Log): Promise<void> {
  try {
    await stampUse(join(images, key));
    const pruned = await pruneImages(images, key);
    if (pruned.removed.length) {
      log(
        `image cache: removed ${pruned.removed.join(', ')} (${(pruned.bytes / 2 ** 30).toFixed(1)} GiB); it keeps the ${IMAGES_KEPT} most recently used images`,
      );
    }
  } catch (e) {
    log(`image cache: could not prune ${images}: ${(e as Error).message}`);
  }
}

/** Returns the cached image for a recipe, building it first on a miss. */
export async function ensureImage(r: Recipe, log: Log = () => {}): Promise<BuildResult> {
  const started = Date.now();
  const key = recipeKey(r);
  const images = join(cacheDir(), 'images');
  const dir = join(images, key);
  if (existsSync(join(dir, 'recipe.json'))) {
    log(`image ${key.slice(0, 12)}: cache hit (${dir})`);
    await keepRecent(images, key, log);
    return { image: imageFromDir(dir, key, r), cacheHit: true, durationMs: Date.now() - started };
  }
  await mkdir(images, { recursive: true, mode: 0o755 });
  const lock = join(images, `${key}.lock`);
  let lockHandle: FileHandle;
  try {
    lockHandle = await open(lock, 'wx');
  } catch {
    throw new FollowmeError(`image ${key.slice(0, 12)} is being built by another process (lock ${lock}); remove the lock if no build runs`);
  }
  const tmp = join(images, `${key}.partial-${process.pid}`);
  try {
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true, mode: 0o755 });
    log(`image ${key.slice(0, 12)}: cache miss, building into ${tmp}`);
    if (r.kind === 'debian') await buildDebian(r, key, tmp, log);
    else await fetchCloudImage(r, tmp, log);
    await writeFile(join(tmp, 'recipe.json'), `${JSON.stringify(r, null, 2)}\n`);
    await rename(tmp, dir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    await lockHandle.close();
    await rm(lock, { force: true });
  }
  log(`image ${key.slice(0, 12)}: built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  await keepRecent(images, key, log);
  return { image: imageFromDir(dir, key, r), cacheHit: false, durationMs: Date.now() - started };
}

async function buildDebian(r: DebianRecipe, key: string, out: string, log: Log): Promise<void> {
  const root = join(out, 'root');
  log(`  debootstrap ${r.suite} (${r.packages.length} packages) from ${r.mirror}`);
  // Both debootstraps share one .deb cache: the container's packages are a subset.
  const debs = join(out, 'debs');
  await mkdir(debs, { recursive: true });
  const debootstrap = (target: string, packages: readonly string[], cache = debs) =>
    run(log, ['debootstrap', `--variant=${r.variant}`, `--cache-dir=${cache}`, `--include=${packages.join(',')}`, r.suite, target, r.mirror]);
  try {
    await debootstrap(root, r.packages);
    await debootstrapTemplates(r.containers, root, debs, log, debootstrap);
  } catch (e) {
    if (e instanceof CommandError && /Failed getting release file|Couldn't download|Temporary failure/i.test(e.stderr)) {
      throw new FollowmeError(
        `image build: cannot reach the Debian archive ${r.mirror}` +
          (process.env['FOLLOWME_NETNS']
            ? ' (this runs inside the test sandbox, which has no route out: build the image first with `npx followme image build`)'
            : '') +
          `\n${e.message}`,
        { cause: e },
      );
    }
    throw e;
  }
  await rm(debs, { recursive: true, force: true });
  await configureGuest(r, root, log);
  // Experiments record which image their nodes ran (experiment/manifest.ts).
  await mkdir(join(root, 'etc/followme'), { recursive: true });
  await writeFile(join(root, 'etc/followme/image-recipe'), `${key}\n`);
  const boot = await readdir(join(root, 'boot'));
  const kernel = boot.find((f) => f.startsWith('vmlinuz-'));
  const initrd = boot.find((f) => f.startsWith('initrd.img-'));
  if (!kernel || !initrd) throw new FollowmeError(`image build: no kernel or initrd in ${root}/boot (found: ${boot.join(', ')})`);
  await copyFile(join(root, 'boot', kernel), join(out, 'vmlinuz'));
  await copyFile(join(root, 'boot', initrd), join(out, 'initrd.img'));
  const raw = join(out, 'rootfs.raw');
  log(`  mkfs.ext4 -d (${r.rootfsSizeMiB} MiB)`);
  await run(log, ['mkfs.ext4', '-q', '-F', '-L', 'followme-root', '-d', root, raw, `${r.rootfsSizeMiB}M`]);
  await run(log, ['qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', raw, join(out, 'rootfs.qcow2')]);
  await rm(raw, { force: true });
  await rm(root, { recursive: true, force: true });
  for (const f of ['rootfs.qcow2', 'vmlinuz', 'initrd.img']) await chmod(join(out, f), 0o644);
}

/**
 * The containers' templates: one debootstrap per distinct package set, all at
 * once (each waits on dpkg's fsyncs as much as on the CPU), each with its own
 * hard-linked copy of the base's .deb cache (debootstrap adds to its cache,
 * and two adding the same package at once would clash); a template whose
 * packages another has is a copy of it. A fresh machine's `npm test` builds
 * the image first: this is CI time.
 */
async function debootstrapTemplates(
  templates: readonly ContainerTemplateRecipe[],
  root: string,
  debs: string,
  log: Log,
  debootstrap: (target: string, packages: readonly string[], cache: string) => Promise<unknown>,
): Promise<void> {
  const bySet = new Map<string, ContainerTemplateRecipe[]>();
  for (const t of templates) {
    const set = [...t.packages].sort().join(',');
    bySet.set(set, [...(bySet.get(set) ?? []), t]);
  }
  await Promise.all(
    [...bySet.values()].map(async ([first, ...same], i) => {
      const cache = `${debs}-${i}`;
      await run(log, ['cp', '-al', debs, cache]);
      log(`  debootstrap the ${first!.workload} container's template into ${first!.dir} (${first!.packages.join(', ')})`);
      await debootstrap(join(root, first!.dir), first!.packages, cache);
      await rm(cache, { recursive: true, force: true });
      for (const t of same) {
        log(`  the ${t.workload} container's template: a copy of the ${first!.workload} container's (the same packages)`);
        await mkdir(dirname(join(root, t.dir)), { recursive: true });
        await run(log, ['cp', '-a', join(root, first!.dir), join(root, t.dir)]);
      }
    }),
  );
}

/** Offline changes to the debootstrapped tree: no daemon runs, nothing mounted. */
async function configureGuest(r: DebianRecipe, root: string, log: Log): Promise<void> {
  const g = guestFilesDir();
  const put = async (name: string, dest: string, mode: number) => {
    await mkdir(join(root, dest, '..'), { recursive: true });
    await copyFile(join(g, name), join(root, dest));
    await chmod(join(root, dest), mode);
  };
  await put('followme-seed', 'usr/local/sbin/followme-seed', 0o755);
  await put('followme-seed.service', 'etc/systemd/system/followme-seed.service', 0o644);
  await put('followme-report.service', 'etc/systemd/system/followme-report.service', 0o644);
  await put('10-br0.netdev', 'etc/systemd/network/10-br0.netdev', 0o644);
  await put('20-uplink.network', 'etc/systemd/network/20-uplink.network', 0o644);
  await put('30-br0.network', 'etc/systemd/network/30-br0.network', 0o644);
  await put('sshd-followme.conf', 'etc/ssh/sshd_config.d/followme.conf', 0o644);
  await writeFile(join(root, 'etc/fstab'), '/dev/vda / ext4 defaults,x-systemd.growfs 0 1\n');
  await writeFile(join(root, 'etc/hostname'), 'followme\n');
  await writeFile(join(root, 'etc/machine-id'), ''); // each VM makes its own on first boot
  await rm(join(root, 'var/lib/dbus/machine-id'), { force: true });
  for (const f of await readdir(join(root, 'etc/ssh'))) {
    if (f.startsWith('ssh_host_')) await rm(join(root, 'etc/ssh', f)); // the seed brings the pinned one
  }
  // An initramfs with only what mounts /dev/vda (10 MB, not 37 MB with
  // MODULES=most): every TCG boot unpacks it. /etc/.updated and /var/.updated
  // spare the first boot an ldconfig.
  await writeFile(join(root, 'etc/initramfs-tools/conf.d/followme.conf'), 'MODULES=list\nCOMPRESS=zstd\n');
  await writeFile(join(root, 'etc/initramfs-tools/modules'), `${r.initramfsModules.join('\n')}\n`);
  await writeFile(join(root, 'etc/.updated'), '');
  await writeFile(join(root, 'var/.updated'), '');
  const chroot = (...args: string[]) => run(log, ['chroot', root, ...args]);
  await chroot('update-initramfs', '-u', '-k', 'all');
  await chroot('systemctl', 'enable', ...r.units.enable);
  await chroot('systemctl', 'disable', ...r.units.disable);
  await chroot('systemctl', 'mask', ...r.units.mask);
  await chroot('apt-get', 'clean');
  for (const t of r.containers) await configureTemplate(t, join(root, t.dir), log);
}

/** A workload's files into its template; its services stay off (the workload's init starts what it needs). */
async function configureTemplate(t: ContainerTemplateRecipe, template: string, log: Log): Promise<void> {
  for (const f of t.files) {
    const dest = join(template, f.to);
    await mkdir(dirname(dest), { recursive: true });
    await copyFile(join(workloadFilesDir(t.workload), f.from), dest);
    await chmod(dest, f.mode);
  }
  await run(log, ['chroot', template, 'apt-get', 'clean']);
  await slimContainerTemplate(template);
}

/**
 * A container is copied edge to edge by every rsync-based migration:
 * drop what a running container never reads (apt lists, docs, man pages,
 * translations; 192 MB → 89 MB), the way Debian's "slim" images do,
 * and keep dpkg from putting them back.
 */
async function slimContainerTemplate(template: string): Promise<void> {
  const dropped = ['var/lib/apt/lists', 'usr/share/doc', 'usr/share/man', 'usr/share/locale', 'usr/share/info'];
  for (const d of dropped) {
    await rm(join(template, d), { recursive: true, force: true });
    await mkdir(join(template, d), { recursive: true });
  }
  await writeFile(
    join(template, 'etc/dpkg/dpkg.cfg.d/followme-slim'),
    [
      'path-exclude /usr/share/doc/*',
      'path-include /usr/share/doc/*/copyright',
      'path-exclude /usr/share/man/*',
      'path-exclude /usr/share/locale/*',
      'path-exclude /usr/share/info/*',
      '',
    ].join('\n'),
  );
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Users with internet: a stock cloud image by URL, checked against its sha256. Not exercised here. */
async function fetchCloudImage(r: CloudRecipe, out: string, log: Log): Promise<void> {
  const dl = join(out, 'download.img');
  log(`  downloading ${r.url}`);
  await run(log, ['curl', '-fsSL', '--retry', '3', '-o', dl, r.url]);
  const sum = await sha256File(dl);
  if (sum !== r.sha256) throw new FollowmeError(`cloud image ${r.url}: sha256 is ${sum}, the config says ${r.sha256}`);
  await run(log, ['qemu-img', 'convert', '-O', 'qcow2', dl, join(out, 'rootfs.qcow2')]);
  await rm(dl, { force: true });
  await chmod(join(out, 'rootfs.qcow2'), 0o644);
}

export async function readCachedRecipe(dir: string): Promise<Recipe> {
  return JSON.parse(await readFile(join(dir, 'recipe.json'), 'utf8')) as Recipe;
}
