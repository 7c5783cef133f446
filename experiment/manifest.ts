// DIR/manifest.json: what an experiment ran on, so its numbers can be read
// (and trusted) without the testbed: the plan, the testbed, the image, the
// versions of everything in the path (kernel, CRIU, LXC, QEMU, libvirt), the
// CPU, KVM or TCG, followme's own version and commit, and each network
// profile as measured.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { ConfigError } from '../common/errors.js';
import { readInputFile } from '../common/input/read.js';
import { runLocal } from '../common/exec.js';
import type { Inventory } from '../common/inventory.js';
import { projectRoot } from '../common/paths.js';
import { sshTarget } from '../common/ssh/target.js';
import { SshConnection } from '../common/ssh/transport.js';
import type { Plan } from './plan.js';
import type { Profile } from './profiles.js';
import { writeJsonDurably } from './results.js';

export const MANIFEST_FILE = 'manifest.json';

export interface NodeFacts {
  role: string;
  kernel: string;
  criu: string;
  lxc: string;
  /** systemd-detect-virt in the guest: "kvm" with hardware virtualization, "qemu" under TCG. */
  virtualization: string;
  accelerator: 'KVM' | 'TCG' | 'unknown';
  cpuModel: string;
  cores: number;
  memoryMiB: number;
  /** The guest image's recipe key, as the image build wrote it into the guest. */
  imageRecipe: string;
}

export interface ProfileMeasurement {
  rttMs: { min: number; avg: number; max: number };
  throughputMbit: number;
  between: [string, string];
  at: string;
}

export interface Manifest {
  manifestVersion: 1;
  createdAt: string;
  plan: Plan;
  planFile: string;
  testbed: { prefix: string; stack?: string; subnet: string; nodes: { name: string; role: string; ip: string }[]; nfs: boolean };
  controller: { kernel: string; cpuModel: string; cores: number; qemu: string; libvirt: string; node: string };
  nodes: Record<string, NodeFacts>;
  followme: { version: string; commit: string };
  profiles: Record<string, { profile: Profile; measured?: ProfileMeasurement }>;
}

const firstLine = (s: string) => s.trim().split('\n')[0]?.trim() ?? '';

async function localLine(argv: string[]): Promise<string> {
  try {
    return firstLine((await runLocal(argv, { timeoutMs: 30_000 })).stdout);
  } catch {
    return 'unknown';
  }
}

function cpuModel(cpuinfo: string): string {
  return /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
}

async function controllerFacts(): Promise<Manifest['controller']> {
  const cpuinfo = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
  return {
    kernel: await localLine(['uname', '-r']),
    cpuModel: cpuModel(cpuinfo),
    cores: (cpuinfo.match(/^processor\s*:/gm) ?? []).length,
    qemu: await localLine(['qemu-system-x86_64', '--version']),
    libvirt: await localLine(['libvirtd', '--version']),
    node: process.version,
  };
}

export async function followmeIdentity(): Promise<Manifest['followme']> {
  const version = (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  const commit = existsSync(join(projectRoot(), '.git')) ? await localLine(['git', '-C', projectRoot(), 'rev-parse', 'HEAD']) : 'unknown';
  const dirty = commit !== 'unknown' && (await localLine(['git', '-C', projectRoot(), 'status', '--porcelain', '--untracked-files=no'])) !== '';
  return { version, commit: dirty ? `${commit}+changes` : commit };
}

const NODE_FACTS_SCRIPT = [
  'uname -r',
  'criu --version 2>/dev/null | head -1',
  'lxc-start --version 2>/dev/null',
  'systemd-detect-virt 2>/dev/null || echo none',
  'nproc',
  "awk '/MemTotal/ {print int($2/1024)}' /proc/meminfo",
  "grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2-",
  'cat /etc/followme/image-recipe 2>/dev/null || echo unknown',
].join('; ');

export async function nodeFacts(inv: Inventory): Promise<Record<string, NodeFacts>> {
  const out: Record<string, NodeFacts> = {};
  for (const n of inv.nodes) {
    const r = await SshConnection.with(sshTarget(inv, n), (c) => c.check(['sh', '-c', NODE_FACTS_SCRIPT]));
    const [kernel = '', criu = '', lxc = '', virt = '', cores = '0', mem = '0', cpu = '', recipe = ''] = r.stdout.split('\n').map((l) => l.trim());
    out[n.name] = {
      role: n.role,
      kernel,
      criu: /(\d+\.\d+(?:\.\d+)?)/.exec(criu)?.[1] ?? criu,
      lxc,
      virtualization: virt,
      accelerator: virt === 'kvm' ? 'KVM' : virt === 'qemu' ? 'TCG' : 'unknown',
      cpuModel: cpu || 'unknown',
      cores: Number(cores),
      memoryMiB: Number(mem),
      imageRecipe: recipe,
    };
  }
  return out;
}

export async function newManifest(o: { plan: Plan; planFile: string; inventory: Inventory; stack?: string }): Promise<Manifest> {
  const inv = o.inventory;
  return {
    manifestVersion: 1,
    createdAt: new Date().toISOString(),
    plan: o.plan,
    planFile: o.planFile,
    testbed: {
      prefix: inv.prefix,
      ...(o.stack ? { stack: o.stack } : {}),
      subnet: inv.subnet,
      nodes: inv.nodes.map((n) => ({ name: n.name, role: n.role, ip: n.ip })),
      nfs: inv.nfs !== undefined,
    },
    controller: await controllerFacts(),
    nodes: await nodeFacts(inv),
    followme: await followmeIdentity(),
    profiles: Object.fromEntries(o.plan.profiles.map((p) => [p.name, { profile: p }])),
  };
}

export function readManifest(dir: string): Manifest | undefined {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return undefined;
  let m: Partial<Manifest>;
  try {
    m = JSON.parse(readInputFile(path, { what: 'manifest', key: 'out' })) as Partial<Manifest>;
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new ConfigError(`${path}: not JSON (${(e as Error).message})`, 'out');
  }
  if (m?.manifestVersion !== 1 || typeof m.plan?.name !== 'string' || typeof m.testbed?.prefix !== 'string' || typeof m.nodes !== 'object') {
    throw new ConfigError(`${path}: not a manifest of followme experiment (manifestVersion 1 with plan, testbed and nodes)`, 'out');
  }
  return m as Manifest;
}

export function writeManifest(dir: string, m: Manifest): void {
  writeJsonDurably(join(dir, MANIFEST_FILE), m);
}

/** A results directory resumes only the experiment it holds: the same plan on the same testbed. */
export function checkResumable(existing: Manifest, plan: Plan, inv: Inventory, outFlag: string): void {
  if (!isDeepStrictEqual(existing.plan, plan)) {
    throw new ConfigError(
      `--${outFlag}: holds the results of another plan ("${existing.plan.name}" from ${existing.planFile}); use another --${outFlag}, or the same plan to resume it`,
      outFlag,
    );
  }
  if (existing.testbed.prefix !== inv.prefix) {
    throw new ConfigError(
      `--${outFlag}: its runs were made on testbed "${existing.testbed.prefix}", not "${inv.prefix}"; results of two testbeds are not mixed in one directory`,
      outFlag,
    );
  }
}
