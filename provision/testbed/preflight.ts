// Checks made against the hosts before anything is created: what the
// hypervisor can run, and that the testbed subnet is free.
import { execa } from 'execa';
import { ConfigError } from '../../common/errors.js';
import { isLocalUri } from '../../common/input/libvirt-uri.js';
import type { Hypervisor, Plan } from '../plan/types.js';
import { names } from '../plan/plan.js';
import { parseSubnet, subnetFromAddress, subnetsOverlap } from '../../common/net.js';
import { readNetworkAddresses, readOwnership, readNetworkBridge } from '../libvirt/inspect.js';
import { parseNameList, virsh } from '../libvirt/virsh.js';

/**
 * Boots the guest kernel under KVM for a few seconds. Some machines expose a
 * /dev/kvm that fails on a real guest ("KVM internal error … emulation
 * failure"): libvirt still advertises kvm there, and the domain only pauses.
 */
export async function kvmBootsKernel(kernel: string, seconds = 6): Promise<boolean> {
  const proc = execa(
    'qemu-system-x86_64',
    [
      '-accel',
      'kvm',
      '-m',
      '256',
      '-kernel',
      kernel,
      '-append',
      'console=ttyS0 panic=-1',
      '-serial',
      'stdio',
      '-display',
      'none',
      '-monitor',
      'none',
      '-no-reboot',
      '-nodefaults',
    ],
    { reject: false, timeout: seconds * 1000, stdin: 'ignore', all: true, buffer: false },
  );
  // Decide on the first telling line instead of waiting the whole time out.
  const verdict = await new Promise<boolean>((resolve) => {
    let out = '';
    proc.all?.on('data', (d: Buffer) => {
      out += d.toString();
      if (/KVM internal error|emulation failure|failed to initialize kvm/i.test(out)) resolve(false);
      else if (/Linux version/.test(out)) resolve(true);
    });
    void proc.then(() => resolve(false));
  });
  proc.kill('SIGKILL');
  await proc;
  return verdict;
}

/**
 * kvm when the libvirt host offers it for x86_64 guests (and, on this
 * machine, it really boots the guest kernel), TCG otherwise.
 */
export async function probeHypervisor(uri: string, kernel?: string): Promise<Hypervisor> {
  const caps = (await virsh(uri, ['capabilities'])).stdout;
  if (!/<domain type=['"]kvm['"]/.test(caps)) return 'qemu';
  if (isLocalUri(uri) && kernel && !(await kvmBootsKernel(kernel))) return 'qemu';
  return 'kvm';
}

/** Refuses a subnet that overlaps another libvirt network or, on this machine, an interface. */
export async function checkSubnetFree(prefix: string, subnet: string, uris: string[], source: string): Promise<void> {
  const mine = parseSubnet(subnet)!;
  for (const uri of uris) {
    for (const net of parseNameList((await virsh(uri, ['net-list', '--all', '--name'])).stdout)) {
      const xml = (await virsh(uri, ['net-dumpxml', '--inactive', net])).stdout;
      const own = readOwnership(xml, 'network');
      if (net === names.network(prefix) && (own ? own.prefix === prefix : readNetworkBridge(xml) === names.bridge(prefix))) continue;
      for (const a of readNetworkAddresses(xml)) {
        const other = subnetFromAddress(a.address, a.prefixLength);
        if (other && subnetsOverlap(mine, other)) {
          throw new ConfigError(
            `${source}.subnet = "${subnet}": overlaps libvirt network "${net}" (${other.cidr}) on ${uri}; choose a free subnet`,
            `${source}.subnet`,
          );
        }
      }
    }
  }
  if (uris.some(isLocalUri)) {
    const r = await execa('ip', ['-j', '-4', 'addr', 'show'], { reject: false });
    const links = JSON.parse(String(r.stdout || '[]')) as { ifname: string; addr_info?: { local: string; prefixlen: number }[] }[];
    for (const l of links) {
      if (l.ifname === names.bridge(prefix)) continue;
      for (const a of l.addr_info ?? []) {
        const other = subnetFromAddress(a.local, a.prefixlen);
        if (other && other.prefixLength > 0 && subnetsOverlap(mine, other) && !a.local.startsWith('127.')) {
          throw new ConfigError(
            `${source}.subnet = "${subnet}": overlaps ${a.local}/${a.prefixlen} on interface ${l.ifname} of this machine; choose a free subnet`,
            `${source}.subnet`,
          );
        }
      }
    }
  }
}

export function planUris(plan: Plan): string[] {
  return [...new Set(plan.domains.map((d) => d.uri))];
}
