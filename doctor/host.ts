// What the host needs before a testbed comes up: a hypervisor (and which),
// libvirt and QEMU, disk for the image and the guests, the testbed's subnet
// free, and whether the guest image is cached already.
import { existsSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheDir } from '../common/paths.js';
import { recipeFor } from '../provision/image/build.js';
import { recipeKey } from '../provision/image/recipe.js';
import { virsh } from '../provision/libvirt/virsh.js';
import { checkSubnetFree } from '../provision/testbed/preflight.js';
import { resolveNode, type Topology } from '../provision/topology/schema.js';
import { isLocalUri } from '../common/input/libvirt-uri.js';
import { type Check, fail, guarded, ok, warn } from './check.js';
import { pinRemoteHosts } from '../provision/hosts/pinned-ssh.js';

const HOST = 'host';
const GiB = 2 ** 30;
/** What a testbed needs on disk: the image (built once, about 2 GiB with its work) and each guest's overlay as it grows. */
export const DISK_FOR_IMAGE = 4 * GiB;
export const DISK_PER_GUEST = 2 * GiB;

/** Which accelerator the guests get, and why; `sys` points elsewhere for tests. */
export function hypervisorCheck(sys = { devKvm: '/dev/kvm', modules: '/sys/module' }): Check {
  if (!existsSync(sys.devKvm))
    return warn(
      HOST,
      'hypervisor',
      "TCG: no /dev/kvm, guests run under QEMU emulation (migration times 5 to 10 times KVM's)",
      'enable virtualisation in the firmware and load kvm_intel or kvm_amd, or keep TCG and compare ratios only',
    );
  if (existsSync(join(sys.modules, 'kvm_pvm')))
    return warn(
      HOST,
      'hypervisor',
      "TCG: this host's KVM is kvm-pvm (/sys/module/kvm_pvm), which runs only PVM guest kernels, not the Debian guests' own",
      'run on a host with kvm_intel or kvm_amd, or keep TCG and compare ratios only',
    );
  return ok(HOST, 'hypervisor', `KVM (${sys.devKvm}); \`testbed up\` still boots the guest kernel once to be sure`);
}

async function versionsCheck(uri: string): Promise<Check> {
  const out = (await virsh(uri, ['version'])).stdout;
  const lib = /Using library: libvirt ([\d.]+)/.exec(out)?.[1];
  const qemu = /Running hypervisor: QEMU ([\d.]+)/.exec(out)?.[1];
  if (!lib || !qemu)
    return fail(
      HOST,
      `libvirt ${uri}`,
      `cannot read the versions from \`virsh version\`: ${out.trim().slice(0, 80)}`,
      'is libvirtd running? provision/setup-host.sh installs it',
    );
  return ok(HOST, `libvirt ${uri}`, `libvirt ${lib}, QEMU ${qemu}`);
}

async function diskCheck(t: Topology): Promise<Check> {
  const local = t.nodes.filter((n) => isLocalUri(resolveNode(t, n).libvirtUri)).length;
  const need = DISK_FOR_IMAGE + local * DISK_PER_GUEST;
  const at = [cacheDir(), '/var/lib/libvirt/images'].filter(existsSync);
  const frees = await Promise.all(at.map(async (p) => ({ p, free: Number((await statfs(p)).bavail) * Number((await statfs(p)).bsize) })));
  const least = frees.sort((a, b) => a.free - b.free)[0];
  if (!least) return warn(HOST, 'disk', "neither the image cache nor libvirt's image directory exists yet", 'run provision/setup-host.sh');
  const detail = `${(least.free / GiB).toFixed(1)} GiB free at ${least.p}; the image and ${local} guests need about ${(need / GiB).toFixed(0)} GiB`;
  return least.free >= need ? ok(HOST, 'disk', detail) : fail(HOST, 'disk', detail, `free space at ${least.p}, or run fewer guests`);
}

function imageCheck(t: Topology): Check {
  const key = recipeKey(recipeFor(t));
  const dir = join(cacheDir(), 'images', key);
  if (existsSync(join(dir, 'recipe.json'))) return ok(HOST, 'image cache', `the guest image ${key.slice(0, 12)} is cached (${dir})`);
  return warn(
    HOST,
    'image cache',
    `the guest image ${key.slice(0, 12)} is not built yet`,
    '`followme image build` (about 10 minutes; `testbed up` builds it too)',
  );
}

/** Every host check for a topology; `up` is whether its testbed exists already (its subnet is then its own). */
export async function hostChecks(t: Topology, source: string): Promise<Check[]> {
  const uris = [...new Set(t.nodes.map((n) => resolveNode(t, n).libvirtUri))];
  // A remote host is asked only at its pinned key.
  pinRemoteHosts(t);
  const checks: Check[] = [hypervisorCheck()];
  for (const uri of uris)
    checks.push(...(await guarded(HOST, `libvirt ${uri}`, 'is libvirtd running? provision/setup-host.sh installs it', () => versionsCheck(uri))));
  checks.push(...(await guarded(HOST, 'disk', 'check the cache and libvirt directories', () => diskCheck(t))));
  checks.push(
    ...(await guarded(HOST, 'subnet', `choose a free subnet in ${source}`, async () => {
      await checkSubnetFree(t.prefix, t.subnet, uris, source);
      return ok(HOST, 'subnet', `${t.subnet} is free (or the testbed's own)`);
    })),
  );
  checks.push(imageCheck(t));
  return checks;
}
