// What each testbed VM went through, read at teardown: a VM that died or whose
// kernel complained mid-run fails tests far from the cause (an SSH "Not
// connected", EHOSTUNREACH), so the run prints the domain's state and the
// tails of its serial console and QEMU logs. Silent when every VM is healthy.
import { readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { names } from '../../provision/plan/plan.js';
import type { Topology } from '../../provision/topology/schema.js';

const URI = 'qemu:///system';
/** Kernel lines that mean a guest was in trouble (printed at loglevel 4 and below). */
const KERNEL_TROUBLE = /Kernel panic|Oops|BUG:|soft lockup|hard LOCKUP|Out of memory|oom-kill|hung_task|blocked for more than|rcu.*stall|segfault|Call Trace/;
const TAIL_LINES = 40;

/** A node on the sandbox's second host is looked at through that host's own shell (its logs are in its mount namespace). */
const onSecondHost = (t: Topology, node: string) => t.nodes.find((n) => n.name === node)?.host === 'host2';

async function tail(path: string, lines: number, host2 = false): Promise<string[] | undefined> {
  try {
    if (host2) {
      const r = await execa(process.env['FOLLOWME_HOST2_RUN'] ?? 'false', ['cat', path], { reject: false });
      return r.exitCode === 0 ? String(r.stdout).split('\n').slice(-lines) : undefined;
    }
    return (await readFile(path, 'utf8')).split('\n').slice(-lines);
  } catch {
    return undefined;
  }
}

/** One paragraph per unhealthy VM of the topology; empty when all are running with quiet kernels. */
export async function vmHealthReport(t: Topology): Promise<string[]> {
  const report: string[] = [];
  for (const node of t.nodes) {
    const domain = names.domain(t.prefix, node.name);
    const host2 = onSecondHost(t, node.name);
    const virsh = ['virsh', '-q', '-c', URI, 'domstate', '--reason', domain];
    const state = await (host2
      ? execa(process.env['FOLLOWME_HOST2_RUN'] ?? 'false', virsh, { reject: false })
      : execa(virsh[0]!, virsh.slice(1), { reject: false }));
    const stateText = String(state.stdout).trim() || String(state.stderr).trim();
    const serial = (await tail(names.consoleLog(t.prefix, node.name), 2000, host2)) ?? [];
    const trouble = serial.filter((l) => KERNEL_TROUBLE.test(l));
    if (stateText.startsWith('running') && trouble.length === 0) continue;
    const qemuLog = (await tail(`/var/log/libvirt/qemu/${domain}.log`, 15, host2)) ?? ['(no QEMU log)'];
    report.push(
      [
        `${domain}: ${stateText}`,
        ...(trouble.length ? [`  kernel trouble in its serial console (${trouble.length} line(s)), first: ${trouble[0]}`] : []),
        `  serial console, last ${TAIL_LINES} lines:`,
        ...serial.slice(-TAIL_LINES).map((l) => `    ${l}`),
        '  QEMU log, last lines:',
        ...qemuLog.map((l) => `    ${l}`),
      ].join('\n'),
    );
  }
  return report;
}
