// Readiness, in stages, each with bounded retries and its own timeout:
//   address → ssh (pinned host key) → edge tools (criu check, lxc-checkconfig)
//   → nfs (server exports, edges mounted), on testbeds with an NFS node.
// A stage that does not pass names the VM, the stage and its console log.
import { FollowmeError, ReadinessTimeoutError } from '../../common/errors.js';
import { NotYet, poll, PollTimeoutError } from '../../common/poll.js';
import { domainState } from '../libvirt/driver.js';
import { SshConnection } from '../../common/ssh/transport.js';
import { sshTarget } from '../../common/ssh/target.js';
import { parseDhcpLeases, virsh } from '../libvirt/virsh.js';
import type { Inventory, InventoryNode } from '../../common/inventory.js';

export type Stage = 'address' | 'ssh' | 'edge-tools' | 'nfs';

export interface StageLimits {
  timeoutMs: number;
  intervalMs: number;
}

/** TCG boots are slow and VMs share two cores; these bound the wait, they are not targets. */
export const STAGE_LIMITS: Record<Stage, StageLimits> = {
  address: { timeoutMs: 600_000, intervalMs: 2_000 },
  ssh: { timeoutMs: 300_000, intervalMs: 2_000 },
  'edge-tools': { timeoutMs: 180_000, intervalMs: 5_000 },
  nfs: { timeoutMs: 300_000, intervalMs: 3_000 },
};

export type Progress = (line: string) => void;

/** Retries `attempt` until it returns true or the stage's time is up; progress every 15 s. */
export async function waitFor(
  node: InventoryNode,
  stage: Stage,
  attempt: () => Promise<true | string>,
  progress: Progress,
  limits: StageLimits = STAGE_LIMITS[stage],
): Promise<number> {
  let lastReport = performance.now();
  try {
    const r = await poll(
      async () => {
        const outcome = await attempt();
        if (outcome !== true) throw new NotYet(outcome);
      },
      limits,
      {
        isFatal: (e) => e instanceof NodeDownError,
        onWait: (reason, n, elapsed) => {
          if (performance.now() - lastReport < 15_000) return;
          progress(`${node.name}: waiting for ${stage} (${Math.round(elapsed / 1000)} s, attempt ${n}${reason ? `: ${reason.split('\n')[0]}` : ''})`);
          lastReport = performance.now();
        },
      },
    );
    progress(`${node.name}: ${stage} ok (${(r.elapsedMs / 1000).toFixed(1)} s)`);
    return r.elapsedMs;
  } catch (e) {
    if (e instanceof PollTimeoutError) throw new ReadinessTimeoutError(node.name, stage, node.consoleLog, e.lastReason, limits.timeoutMs);
    throw e;
  }
}

/** The VM is not running (paused by a hypervisor error, crashed, shut off): waiting cannot help. */
export class NodeDownError extends FollowmeError {
  override name = 'NodeDownError';
}

async function addressAssigned(inv: Inventory, n: InventoryNode): Promise<true | string> {
  const state = await domainState(n.libvirtUri, n.domain);
  if (state !== 'running') {
    throw new NodeDownError(
      `${n.name}: domain ${n.domain} is ${state ?? 'gone'}, not running; see its serial console log ${n.consoleLog} and /var/log/libvirt/qemu/${n.domain}.log`,
    );
  }
  const net = `${inv.prefix}-net`;
  // Across hosts one host's network serves DHCP for every node (plan/vxlan.ts): the lease is looked for on each host;
  // a bridge-only network has none to give.
  const uris = [...new Set([n.libvirtUri, ...inv.nodes.map((x) => x.libvirtUri)])];
  const answers = await Promise.allSettled(uris.map((u) => virsh(u, ['net-dhcp-leases', net])));
  if (answers.every((a) => a.status === 'rejected')) throw (answers[0] as PromiseRejectedResult).reason;
  const leases = answers.flatMap((a) => (a.status === 'fulfilled' ? parseDhcpLeases(a.value.stdout) : []));
  const mine = leases.find((l) => l.mac === n.mac.toLowerCase());
  if (!mine) return `no DHCP lease for ${n.mac} yet`;
  if (mine.ip !== n.ip) return `lease for ${n.mac} is ${mine.ip}, planned ${n.ip}`;
  return true;
}

async function runOk(c: SshConnection, argv: string[], timeoutMs = 60_000): Promise<true | string> {
  const r = await c.run(argv, { timeoutMs });
  return r.exitCode === 0 ? true : `\`${argv.join(' ')}\` exited ${r.exitCode}: ${(r.stderr || r.stdout).trim().split('\n').slice(-2).join(' / ')}`;
}

/** lxc-checkconfig exits 0 even when something is missing; read its report. */
export function lxcCheckconfigProblems(output: string): string[] {
  // Strip colour codes; "missing" on a required line is a problem. Lines under
  // "Cgroup v1" are optional on a cgroup v2 system.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the escape character is what a colour code starts with
  const clean = output.replace(/\x1b\[[0-9;]*m/g, '');
  return clean
    .split('\n')
    .filter(
      (l) =>
        /:\s*missing\b/i.test(l) &&
        !/cgroup v1|legacy|CONFIG_NF_NAT_IPV4|CONFIG_NF_NAT_IPV6|CONFIG_IP_NF_TARGET_MASQUERADE|CONFIG_IP6_NF_TARGET_MASQUERADE|CONFIG_NETFILTER_XT_TARGET_CHECKSUM|CONFIG_NETFILTER_XT_MATCH_COMMENT|CONFIG_MACVLAN|CONFIG_VLAN_8021Q|CONFIG_BRIDGE_NETFILTER|File capabilities/i.test(
          l,
        ),
    )
    .map((l) => l.trim());
}

async function edgeTools(c: SshConnection): Promise<true | string> {
  const criu = await runOk(c, ['criu', 'check'], 120_000);
  if (criu !== true) return criu;
  const r = await c.run(['lxc-checkconfig'], { timeoutMs: 60_000 });
  if (r.exitCode !== 0) return `lxc-checkconfig exited ${r.exitCode}`;
  const problems = lxcCheckconfigProblems(r.stdout);
  return problems.length ? `lxc-checkconfig: ${problems.join('; ')}` : true;
}

async function nfsReady(c: SshConnection, inv: Inventory, n: InventoryNode): Promise<true | string> {
  const nfs = inv.nfs!;
  if (n.role === 'nfs') {
    const r = await c.run(['exportfs', '-v'], { timeoutMs: 30_000 });
    return r.exitCode === 0 && r.stdout.includes(nfs.export) ? true : `${nfs.export} is not exported yet`;
  }
  // stat triggers the automount; findmnt proves an NFS file system is there.
  const touched = await runOk(c, ['timeout', '40', 'stat', '-f', `${nfs.mountPoint}/.`], 50_000);
  if (touched !== true) return touched;
  return runOk(c, ['findmnt', '-n', '-t', 'nfs4,nfs', nfs.mountPoint], 20_000);
}

/** Waits until one node passes every stage that applies to it. */
export async function waitNodeReady(
  inv: Inventory,
  n: InventoryNode,
  progress: Progress,
  limits: Partial<Record<Stage, StageLimits>> = {},
): Promise<Record<string, number>> {
  const times: Record<string, number> = {};
  times['address'] = await waitFor(n, 'address', () => addressAssigned(inv, n), progress, limits.address);
  let conn: SshConnection | undefined;
  const sshStarted = Date.now();
  times['ssh'] = await waitFor(
    n,
    'ssh',
    async () => {
      conn?.close();
      conn = undefined;
      conn = await SshConnection.connect(sshTarget(inv, n), { timeoutMs: 15_000 });
      return runOk(conn, ['true']);
    },
    progress,
    limits.ssh,
  );
  try {
    if (n.role === 'edge') times['edge-tools'] = await waitFor(n, 'edge-tools', () => edgeTools(conn!), progress);
    if (inv.nfs) times['nfs'] = await waitFor(n, 'nfs', () => nfsReady(conn!, inv, n), progress);
  } finally {
    conn?.close();
  }
  times['total'] = times['address'] + (Date.now() - sshStarted);
  return times;
}

/** Waits for all nodes in parallel; the first failure is reported after all settle. */
export async function waitTestbedReady(inv: Inventory, progress: Progress): Promise<Record<string, Record<string, number>>> {
  const results = await Promise.allSettled(inv.nodes.map((n) => waitNodeReady(inv, n, progress)));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return Object.fromEntries(inv.nodes.map((n, i) => [n.name, (results[i] as PromiseFulfilledResult<Record<string, number>>).value]));
}
