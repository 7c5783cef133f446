// Checks made against the hosts before anything is created: what the
// hypervisor can run, and that the testbed subnet is free.
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { ConfigError } from '../../common/errors.js';
import { isLocalUri } from '../../common/input/libvirt-uri.js';
import type { Hypervisor, Plan } from '../plan/types.js';
import { resolveNode, type Topology } from '../topology/schema.js';
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

/** Left to the host itself (its libvirtd, QEMU's own overhead, followme) when the guests' memory is added up. */
export const HOST_RESERVE_MIB = 1024;

/** The memory a topology's guests on this machine ask for, against what the machine has: how many edges fit, or a ConfigError saying so. */
export function hostMemoryProblem(t: Topology, memTotalMiB: number, source: string): string | undefined {
  const local = t.nodes.map((n) => resolveNode(t, n)).filter((n) => isLocalUri(n.libvirtUri));
  const asked = local.reduce((a, n) => a + n.memoryMiB, 0);
  const room = memTotalMiB - HOST_RESERVE_MIB;
  if (asked <= room) return undefined;
  const edges = local.filter((n) => n.role === 'edge');
  const others = asked - edges.reduce((a, n) => a + n.memoryMiB, 0);
  const perEdge = edges[0]?.memoryMiB ?? 0;
  const fit = perEdge > 0 ? Math.max(0, Math.floor((room - others) / perEdge)) : 0;
  return `${source}.nodes: the guests ask for ${asked} MiB and this machine has ${memTotalMiB} MiB (${HOST_RESERVE_MIB} kept for the host): at most ${fit} edges of ${perEdge} MiB fit beside the other nodes; remove edges or lower memoryMiB`;
}

/** Refuses a topology whose local guests would not fit in this machine's memory. */
export function checkHostMemory(t: Topology, source: string, meminfo = '/proc/meminfo'): void {
  let text: string;
  try {
    text = readFileSync(meminfo, 'utf8');
  } catch {
    return;
  }
  const kib = /^MemTotal:\s+(\d+) kB$/m.exec(text)?.[1];
  if (!kib) return;
  const problem = hostMemoryProblem(t, Math.floor(Number(kib) / 1024), source);
  if (problem) throw new ConfigError(problem, `${source}.nodes`);
}

export function planUris(plan: Plan): string[] {
  return [...new Set(plan.domains.map((d) => d.uri))];
}
