// DIR/manifest.json: what an experiment ran on, so its numbers can be read
// (and trusted) without the testbed: the plan, the testbed, the image, the
// versions of everything in the path (kernel, CRIU, LXC, QEMU, libvirt), the
// CPU, KVM or TCG, followme's own version and commit, and each network
// profile as measured.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { type Static, Type } from '@sinclair/typebox';
import { ConfigError } from '../common/errors.js';
import { formatProblems, newAjv, schemaProblems } from '../common/input/ajv.js';
import { parseJsonInput } from '../common/input/json.js';
import { NODE_NAME_PATTERN, PREFIX_PATTERN, STACK_NAME_PATTERN } from '../common/input/patterns.js';
import { readInputFile } from '../common/input/read.js';
import { runLocal } from '../common/exec.js';
import type { Inventory } from '../common/inventory.js';
import { projectRoot } from '../common/paths.js';
import { sshTarget } from '../common/ssh/target.js';
import { SshConnection } from '../common/ssh/transport.js';
import { type Plan, resolvePlan } from './plan.js';
import { PROFILE_NAME_PATTERN, ProfileSchema } from './profiles.js';
import { writeJsonDurably } from './results.js';
import { isLocalUri } from '../common/input/libvirt-uri.js';

export const MANIFEST_FILE = 'manifest.json';

/** A fact as read from a node or the controller: text, bounded (it reaches the report). */
const Fact = Type.String({ maxLength: 1000 });

const NodeFactsSchema = Type.Object(
  {
    role: Fact,
    kernel: Fact,
    criu: Fact,
    lxc: Fact,
    /** systemd-detect-virt in the guest: "kvm" with hardware virtualization, "qemu" under TCG. */
    virtualization: Fact,
    accelerator: Type.Union([Type.Literal('KVM'), Type.Literal('TCG'), Type.Literal('unknown')]),
    cpuModel: Fact,
    cores: Type.Integer({ minimum: 0, maximum: 100_000 }),
    memoryMiB: Type.Integer({ minimum: 0 }),
    /** The guest image's recipe key, as the image build wrote it into the guest. */
    imageRecipe: Fact,
    /** The libvirt host the node runs on: "local", or the remote URI's user@host[:port] (a testbed across hosts). */
    libvirtHost: Type.Optional(Fact),
  },
  { additionalProperties: false },
);
export type NodeFacts = Static<typeof NodeFactsSchema>;

const ProfileMeasurementSchema = Type.Object(
  {
    rttMs: Type.Object({ min: Type.Number(), avg: Type.Number(), max: Type.Number() }, { additionalProperties: false }),
    throughputMbit: Type.Number(),
    between: Type.Tuple([Type.String({ pattern: NODE_NAME_PATTERN }), Type.String({ pattern: NODE_NAME_PATTERN })]),
    at: Fact,
  },
  { additionalProperties: false },
);
export type ProfileMeasurement = Static<typeof ProfileMeasurementSchema>;

/** manifest.json as followme writes it; `plan` is checked by the plan's own rules (resolvePlan). */
export const ManifestSchema = Type.Object(
  {
    manifestVersion: Type.Literal(1),
    createdAt: Fact,
    plan: Type.Object({}),
    planFile: Type.String({ maxLength: 4096 }),
    testbed: Type.Object(
      {
        prefix: Type.String({ pattern: PREFIX_PATTERN }),
        stack: Type.Optional(Type.String({ pattern: STACK_NAME_PATTERN })),
        subnet: Fact,
        nodes: Type.Array(Type.Object({ name: Type.String({ pattern: NODE_NAME_PATTERN }), role: Fact, ip: Fact }, { additionalProperties: false }), {
          maxItems: 64,
        }),
        nfs: Type.Boolean(),
      },
      { additionalProperties: false },
    ),
    controller: Type.Object(
      { kernel: Fact, cpuModel: Fact, cores: Type.Integer({ minimum: 0 }), qemu: Fact, libvirt: Fact, node: Fact },
      { additionalProperties: false },
    ),
    nodes: Type.Record(Type.String({ pattern: NODE_NAME_PATTERN }), NodeFactsSchema),
    followme: Type.Object({ version: Fact, commit: Fact }, { additionalProperties: false }),
    profiles: Type.Record(
      Type.String({ pattern: PROFILE_NAME_PATTERN }),
      Type.Object({ profile: ProfileSchema, measured: Type.Optional(ProfileMeasurementSchema) }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);
export type Manifest = Omit<Static<typeof ManifestSchema>, 'plan'> & { plan: Plan };

const checkManifest = newAjv().compile(ManifestSchema);

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

export async function controllerFacts(): Promise<Manifest['controller']> {
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

/** "local" for this machine's libvirtd, else the URI's user@host[:port] (its query, a key file's path, left out). */
export function libvirtHostOf(uri: string): string {
  return isLocalUri(uri) ? 'local' : (/^[a-z0-9+]+:\/\/([^/?#]*)/.exec(uri)?.[1] ?? 'unknown');
}

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
      libvirtHost: libvirtHostOf(n.libvirtUri),
    };
  }
  return out;
}

/** The testbed as a manifest names it. */
export function testbedFacts(inv: Inventory, stack?: string): Manifest['testbed'] {
  return {
    prefix: inv.prefix,
    ...(stack ? { stack } : {}),
    subnet: inv.subnet,
    nodes: inv.nodes.map((n) => ({ name: n.name, role: n.role, ip: n.ip })),
    nfs: inv.nfs !== undefined,
  };
}

export async function newManifest(o: { plan: Plan; planFile: string; inventory: Inventory; stack?: string }): Promise<Manifest> {
  const inv = o.inventory;
  return {
    manifestVersion: 1,
    createdAt: new Date().toISOString(),
    plan: o.plan,
    planFile: o.planFile,
    testbed: testbedFacts(inv, o.stack),
    controller: await controllerFacts(),
    nodes: await nodeFacts(inv),
    followme: await followmeIdentity(),
    profiles: Object.fromEntries(o.plan.profiles.map((p) => [p.name, { profile: p }])),
  };
}

/** The manifest of a results directory, checked whole (it is input: a results directory may come from anywhere); undefined when there is none. */
export function readManifest(dir: string, flag = 'out'): Manifest | undefined {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return undefined;
  const data = parseJsonInput(readInputFile(path, { what: 'manifest', key: flag }), path, flag);
  if (!checkManifest(data)) {
    throw new ConfigError(`${path}: not a manifest of a followme experiment:\n${formatProblems(schemaProblems('manifest', checkManifest.errors))}`, flag);
  }
  // The plan by the plan's own rules. followme wrote it resolved; resolving it again fills in only defaults added since.
  const plan = resolvePlan({ planVersion: 1, ...(data.plan as object) }, `${path}: manifest.plan`);
  return { ...data, plan };
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
