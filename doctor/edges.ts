// What a migration needs of the edges: CRIU and LXC, `criu check`, every
// CRIU feature a registered strategy declares (asked afresh, not from the
// migration's cache), CPUs that the images of one edge can restore on
// another (`criu cpuinfo`), clocks that agree, and the NFS share mounted and
// answering on every edge of a testbed that has one.
import type { Inventory } from '../common/inventory.js';
import { CRIU_FEATURES, type CriuFeature } from '../migration/criu/features.js';
import { command } from '../migration/edge-command.js';
import type { Edge } from '../migration/edge.js';
import { sharedMount } from '../migration/storage/shared.js';
import { registeredStrategies } from '../migration/strategies/index.js';
import { type Check, fail, guarded, ok, warn } from './check.js';

/**
 * Clocks further apart than this are a warning, this far a failure. Records
 * time every command on the controller; the nodes' clocks only place their
 * logs. Guests without a time server start from the host's RTC, whose
 * seconds put them up to a second apart: that is no warning.
 */
export const CLOCK_WARN_MS = 1_500;
export const CLOCK_FAIL_MS = 5_000;
const CPUINFO_DIR = '/tmp/followme-doctor-cpuinfo';

/** Which strategies need each feature, from the registry. */
export function featureUsers(): Map<CriuFeature, string[]> {
  const users = new Map<CriuFeature, string[]>();
  for (const s of registeredStrategies()) for (const f of s.criuFeatures) users.set(f, [...(users.get(f) ?? []), s.name]);
  return users;
}

async function versionsCheck(e: Edge): Promise<Check> {
  const v = await e.versions();
  if (!v.criu) return fail(e.name, 'criu', 'CRIU is not installed', 'rebuild the guest image (`followme image build`)');
  return ok(e.name, 'versions', `CRIU ${v.criu}, LXC ${v.lxc}, kernel ${v.kernel}`);
}

async function criuCheck(e: Edge): Promise<Check> {
  const r = await e.exec(command('criu-check', ['sh', '-c', 'criu check 2>&1 | tail -n 3'], { timeoutMs: 120_000 }), { allowFailure: true });
  const said = r.stdout.trim();
  if (/Looks good/.test(said)) return ok(e.name, 'criu check', said.split('\n').at(-1)!);
  return fail(
    e.name,
    'criu check',
    said.split('\n').join(' / ') || `exit ${r.exitCode}`,
    "a guest kernel with CRIU's options (CONFIG_CHECKPOINT_RESTORE and the rest: `criu check --all` lists them)",
  );
}

/** One line per feature, asked of CRIU afresh (not the migrations' cache). */
async function featureChecks(e: Edge): Promise<Check[]> {
  const users = featureUsers();
  const missing = new Set(await e.missingCriuFeatures([...users.keys()], { fresh: true }));
  return [...users].map(([f, who]) => {
    if (!missing.has(f)) return ok(e.name, `criu feature ${f}`, `present (${who.join(', ')} need it)`);
    return fail(
      e.name,
      `criu feature ${f}`,
      `missing: ${who.join(', ')} cannot run (${CRIU_FEATURES[f]})`,
      `a kernel and CRIU that pass \`criu check --feature ${f}\` on ${e.name}`,
    );
  });
}

/** The images of `from` restore on `to`: CRIU's own comparison of their CPUs. */
async function cpuinfoCheck(from: Edge, to: Edge): Promise<Check> {
  const where = `${from.name} → ${to.name}`;
  const dump = await from.exec(command('criu-cpuinfo', ['sh', '-c', 'mkdir -p "$0" && criu cpuinfo dump -D "$0" && base64 -w0 "$0/cpuinfo.img"', CPUINFO_DIR]));
  const img = dump.stdout.trim();
  const r = await to.exec(
    command('criu-cpuinfo', [
      'sh',
      '-c',
      'mkdir -p "$0" && base64 -d > "$0/cpuinfo.img" && criu cpuinfo check -D "$0" 2>&1 | tail -n 2; s=$?; rm -rf "$0"; exit $s',
      CPUINFO_DIR,
    ]),
    { input: img, allowFailure: true },
  );
  await from.exec(command('criu-cpuinfo', ['rm', '-rf', CPUINFO_DIR]), { allowFailure: true });
  if (r.exitCode === 0 && !/Error/.test(r.stdout)) return ok(where, 'cpuinfo', `${to.name} can restore what ${from.name} dumps`);
  return fail(
    where,
    'cpuinfo',
    `criu cpuinfo check: ${r.stdout.trim().split('\n').join(' / ')}`,
    "give both guests the same CPU model (the stack config's cpu)",
  );
}

/** Each edge's clock against the controller's, and the spread between edges. */
async function clockChecks(edges: readonly Edge[]): Promise<Check[]> {
  const offsets: { edge: Edge; offset: number; rtt: number }[] = [];
  for (const e of edges) {
    const sent = Date.now();
    const r = await e.exec(command('read-clock', ['date', '+%s%3N']));
    const back = Date.now();
    offsets.push({ edge: e, offset: Number(r.stdout.trim()) - (sent + back) / 2, rtt: back - sent });
  }
  const lo = offsets.reduce((a, b) => (b.offset < a.offset ? b : a));
  const hi = offsets.reduce((a, b) => (b.offset > a.offset ? b : a));
  const spread = hi.offset - lo.offset;
  const each = offsets.map((o) => `${o.edge.name} ${o.offset >= 0 ? '+' : ''}${o.offset.toFixed(0)} ms (±${(o.rtt / 2).toFixed(0)})`).join(', ');
  const detail = `edges against the controller: ${each}; ${hi.edge.name} is ${spread.toFixed(0)} ms ahead of ${lo.edge.name}`;
  const where = edges.map((e) => e.name).join(', ');
  const fix = 'set the clocks (date -s, or an NTP server inside the testbed network): command times on the nodes and their logs are compared';
  if (spread > CLOCK_FAIL_MS) return [fail(where, 'clocks', detail, fix)];
  if (spread > CLOCK_WARN_MS) return [warn(where, 'clocks', detail, fix)];
  return [ok(where, 'clocks', detail)];
}

/** The share mounted on the edge and answering (a stopped server hangs a stat: bounded here). */
async function nfsCheck(e: Edge, mount: string, server: string): Promise<Check> {
  // The stat first: an automounted share is mounted by it.
  const r = await e.exec(
    command('nfs-check', ['sh', '-c', 'timeout 5 stat -f -c %T "$0" >/dev/null; s=$?; findmnt -n -o FSTYPE,SOURCE -t nfs,nfs4 -M "$0"; exit $s', mount], {
      timeoutMs: 20_000,
    }),
    { allowFailure: true },
  );
  const [fstype = '', src = ''] = r.stdout.trim().split('\n').at(-1)?.split(/\s+/) ?? [];
  if (!fstype.startsWith('nfs'))
    return fail(
      e.name,
      'nfs share',
      `${mount} is not an NFS mount (${fstype || 'nothing mounted'})`,
      `mount the share: \`systemctl restart remote-fs.target\` on ${e.name}`,
    );
  if (r.exitCode !== 0)
    return fail(e.name, 'nfs share', `${mount} (${src}) does not answer within 5 s`, `start the NFS server on ${server}: \`systemctl start nfs-server\``);
  return ok(e.name, 'nfs share', `${mount} mounted from ${src} and answering`);
}

/** Every edge check; `connect` opens an edge (closed here). */
export async function edgeChecks(inv: Inventory, connect: (name: string) => Promise<Edge>): Promise<Check[]> {
  const edgeNodes = inv.nodes.filter((n) => n.role === 'edge');
  const checks: Check[] = [];
  const edges: Edge[] = [];
  for (const n of edgeNodes) {
    const reached = await guarded(n.name, 'ssh', `is ${n.name} up? \`followme testbed status\``, async () => {
      edges.push(await connect(n.name));
      return [];
    });
    checks.push(...reached);
  }
  try {
    for (const e of edges) {
      checks.push(...(await guarded(e.name, 'versions', 'rebuild the guest image', () => versionsCheck(e))));
      checks.push(...(await guarded(e.name, 'criu check', 'see `criu check` on the edge', () => criuCheck(e))));
      checks.push(...(await guarded(e.name, 'criu features', 'see `criu check --feature` on the edge', () => featureChecks(e))));
    }
    for (const from of edges)
      for (const to of edges)
        if (from !== to) checks.push(...(await guarded(`${from.name} → ${to.name}`, 'cpuinfo', 'see `criu cpuinfo check`', () => cpuinfoCheck(from, to))));
    if (edges.length > 1) checks.push(...(await guarded('edges', 'clocks', 'check the edges answer', () => clockChecks(edges))));
    const nfs = inv.nodes.find((n) => n.role === 'nfs');
    if (nfs && inv.nfs) {
      const mount = sharedMount(inv);
      for (const e of edges) checks.push(...(await guarded(e.name, 'nfs share', `check the share on ${nfs.name}`, () => nfsCheck(e, mount, nfs.name))));
    }
  } finally {
    for (const e of edges) e.close();
  }
  return checks;
}
