// What libvirt holds for a prefix, listed the plain way (virsh list / net-list
// / pool-list / vol-list), independent of the discovery code under test.
import { execa } from 'execa';

const URI = 'qemu:///system';

/** Where to look: this sandbox's own libvirt, or the second host's, through its own shell (FOLLOWME_HOST2_RUN). */
export type Host = 'host1' | 'host2';

function onHost(host: Host, argv: string[]): [string, string[]] {
  if (host === 'host1') return [argv[0]!, argv.slice(1)];
  const run = process.env['FOLLOWME_HOST2_RUN'];
  if (!run) throw new Error('no second host in this sandbox (FOLLOWME_SANDBOX_HOSTS=2)');
  return [run, argv];
}

async function names(args: string[], host: Host): Promise<string[]> {
  const r = await execa(...onHost(host, ['virsh', '-q', '-c', URI, ...args]));
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

export async function objectsWithPrefix(prefix: string, host: Host = 'host1'): Promise<string[]> {
  const found: string[] = [];
  for (const d of await names(['list', '--all', '--name'], host)) if (d.startsWith(`${prefix}-`)) found.push(`domain ${d}`);
  for (const n of await names(['net-list', '--all', '--name'], host)) if (n.startsWith(`${prefix}-`)) found.push(`network ${n}`);
  for (const p of await names(['pool-list', '--all', '--name'], host)) {
    if (p.startsWith(`${prefix}-`)) found.push(`pool ${p}`);
    const vols = await execa(...onHost(host, ['virsh', '-q', '-c', URI, 'vol-list', p]), { reject: false });
    for (const line of String(vols.stdout).split('\n')) {
      const v = line.trim().split(/\s+/)[0];
      if (v?.startsWith(`${prefix}-`)) found.push(`volume ${p}/${v}`);
    }
  }
  // The VXLAN port of a testbed across hosts.
  const port = await execa(...onHost(host, ['ip', '-o', 'link', 'show', `vx-${prefix}`]), { reject: false });
  if (port.exitCode === 0) found.push(`VXLAN port vx-${prefix}`);
  return found.map((f) => (host === 'host1' ? f : `${f} (host 2)`));
}

/** The second host of a two-host sandbox, if there is one. */
export function secondHost(): { uri: string; hostKey: string; underlay: [string, string] } | undefined {
  const e = process.env;
  if (!e['FOLLOWME_HOST2_URI'] || !e['FOLLOWME_HOST2_HOST_KEY'] || !e['FOLLOWME_UNDERLAY1'] || !e['FOLLOWME_UNDERLAY2']) return undefined;
  return { uri: e['FOLLOWME_HOST2_URI'], hostKey: e['FOLLOWME_HOST2_HOST_KEY'], underlay: [e['FOLLOWME_UNDERLAY1'], e['FOLLOWME_UNDERLAY2']] };
}

export function insideSandbox(): boolean {
  return Boolean(process.env['FOLLOWME_NETNS']);
}
