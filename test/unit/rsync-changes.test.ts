// The final sync of the rootfs changes alone, and the final copy's two
// transfers at once: their shell run for real on local directories, with
// rsync's place taken by a command that prints what rsync would be given.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { concurrently, parseAllBytesSent, rsync, type RsyncReceiver } from '../../migration/rsync/commands.js';
import { scratchDir } from '../scratch.js';

const receiver: RsyncReceiver = { address: '10.77.10.11', port: 20002, modules: { container: '/var/lib/lxc/c1', work: '/tmp/w' }, runDir: '/run/x' };

/** pushChanged's argv up to its rsync, then a stand-in that prints the list rsync would read. */
function changedPaths(src: string, marker: string, list: string): string {
  const argv = rsync.pushChanged(src, marker, list, receiver, 'container');
  const upToRsync = argv.slice(0, argv.indexOf('rsync'));
  const out = execFileSync(upToRsync[0]!, [...upToRsync.slice(1), 'sh', '-c', 'tr "\\0" "\\n" < "$0" | sort', list], { encoding: 'utf8' });
  return out.trim();
}

describe('the rootfs changes since the first copy', () => {
  it('lists changed files, and the directories where entries came or went; nothing at all when nothing changed', () => {
    const dir = scratchDir('fm-rootfs-changes-');
    const root = join(dir, 'rootfs');
    mkdirSync(join(root, 'etc'), { recursive: true });
    mkdirSync(join(root, 'var/log'), { recursive: true });
    writeFileSync(join(root, 'etc/hostname'), 'c1\n');
    writeFileSync(join(root, 'var/log/old.log'), 'x\n');
    writeFileSync(join(root, 'var/log/access.log'), 'a\n');
    // Everything older than the marker: as it was when the first copy began.
    const past = new Date(Date.now() - 60_000);
    for (const p of ['', 'etc', 'etc/hostname', 'var', 'var/log', 'var/log/old.log', 'var/log/access.log']) utimesSync(join(root, p), past, past);
    const marker = join(dir, 'mark');
    writeFileSync(marker, '');
    const list = join(dir, 'list');

    const argv = rsync.pushChanged(root, marker, list, receiver, 'container');
    expect(execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8' })).toBe('Total bytes sent: 0\n');

    writeFileSync(join(root, 'var/log/access.log'), 'a\nb\n');
    rmSync(join(root, 'var/log/old.log'));
    expect(changedPaths(root, marker, list).split('\n')).toEqual(['./var/log', './var/log/access.log']);
  });

  it('hands rsync the list, recursing into listed directories with --delete, into the container module', () => {
    const argv = rsync.pushChanged('/var/lib/lxc/c1', '/tmp/w/m', '/tmp/w/list', receiver, 'container');
    const r = argv.slice(argv.indexOf('rsync'));
    expect(r).toEqual(expect.arrayContaining(['-a', '-r', '--delete', '--from0', '--files-from=/tmp/w/list', './']));
    expect(r.at(-1)).toBe('rsync://10.77.10.11:20002/container/');
    expect(argv.slice(3, 7)).toEqual(['rootfs-changes', '/var/lib/lxc/c1', '/tmp/w/m', '/tmp/w/list']);
  });
});

describe('two transfers at once', () => {
  it('runs both, adds up their bytes, and fails with the first failure', () => {
    const say = (n: number, code = 0) => ['sh', '-c', `echo "Total bytes sent: ${n}"; exit ${code}`];
    // Each waits (bounded) for the other to have started: one after the other, the first would give up.
    const dir = scratchDir('fm-concurrently-');
    const meet = (me: string, other: string, n: number) => [
      'sh',
      '-c',
      `touch "$0/${me}"; for i in $(seq 1 100); do [ -e "$0/${other}" ] && echo "Total bytes sent: ${n}" && exit 0; sleep 0.05; done; exit 1`,
      dir,
    ];
    const run = (argv: string[]) => {
      try {
        return { code: 0, out: execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8' }) };
      } catch (e) {
        return { code: (e as { status: number }).status, out: String((e as { stdout: string }).stdout) };
      }
    };
    const both = run(concurrently(meet('a', 'b', 1000), meet('b', 'a', 234)));
    expect(both.code).toBe(0);
    expect(parseAllBytesSent(both.out)).toBe(1234);
    expect(run(concurrently(say(1, 23), say(2, 0))).code).toBe(23);
    expect(run(concurrently(say(1, 0), say(2, 12))).code).toBe(12);
  });
});
