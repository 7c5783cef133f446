// What libvirt holds for a prefix, listed the plain way (virsh list / net-list
// / pool-list / vol-list), independent of the discovery code under test.
import { execa } from 'execa';

const URI = 'qemu:///system';

async function names(args: string[]): Promise<string[]> {
  const r = await execa('virsh', ['-q', '-c', URI, ...args]);
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
}

export async function objectsWithPrefix(prefix: string): Promise<string[]> {
  const found: string[] = [];
  for (const d of await names(['list', '--all', '--name'])) if (d.startsWith(`${prefix}-`)) found.push(`domain ${d}`);
  for (const n of await names(['net-list', '--all', '--name'])) if (n.startsWith(`${prefix}-`)) found.push(`network ${n}`);
  for (const p of await names(['pool-list', '--all', '--name'])) {
    if (p.startsWith(`${prefix}-`)) found.push(`pool ${p}`);
    const vols = await execa('virsh', ['-q', '-c', URI, 'vol-list', p], { reject: false });
    for (const line of String(vols.stdout).split('\n')) {
      const v = line.trim().split(/\s+/)[0];
      if (v?.startsWith(`${prefix}-`)) found.push(`volume ${p}/${v}`);
    }
  }
  return found;
}

export function insideSandbox(): boolean {
  return Boolean(process.env['FOLLOWME_NETNS']);
}
