import { describe, expect, it } from 'vitest';
import { criu, parseContainerProcess, parseCriuVersion } from '../../migration/criu/commands.js';

const proc = {
  initPid: 839,
  cgroup: 'lxc.payload.c1',
  controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'],
  hostLinks: ['vethfF3S08'],
  inotify: false,
  netnsInode: 4026532236,
};

describe('CRIU seam', () => {
  it('pre-dumps with memory tracking, LXC’s options and the container’s cgroup as freezer', () => {
    const argv = criu.preDump({ container: proc, imagesDir: '/tmp/m/pre-1' });
    expect(argv.slice(0, 2)).toEqual(['criu', 'pre-dump']);
    expect(argv).toContain('--track-mem');
    expect(argv).not.toContain('--prev-images-dir');
    expect(argv).not.toContain('--leave-running');
    const at = (flag: string) => argv[argv.indexOf(flag) + 1];
    expect(at('-t')).toBe('839');
    expect(at('-D')).toBe('/tmp/m/pre-1');
    expect(at('-o')).toBe('/tmp/m/pre-1/pre-dump.log');
    expect(at('--freeze-cgroup')).toBe('/sys/fs/cgroup/lxc.payload.c1');
    expect(at('--cgroup-root')).toBe('cpuset,cpu,io,memory,pids:lxc.payload.c1');
    expect(argv).toEqual(
      expect.arrayContaining(['--tcp-established', '--file-locks', '--link-remap', '--manage-cgroups=full', '--skip-in-flight', '--force-irmap']),
    );
  });

  it('links a dump to its parent and streams it to a page server', () => {
    const argv = criu.dump({ container: proc, imagesDir: '/w/dump', prevImagesDir: '../pre-2', pageServer: { address: '10.77.10.11', port: 30002 } });
    expect(argv[1]).toBe('dump');
    expect(argv.join(' ')).toContain('--prev-images-dir ../pre-2');
    expect(argv.join(' ')).toContain('--page-server --address 10.77.10.11 --port 30002');
    expect(argv).not.toContain('--action-script');
    const hooked = criu.dump({ container: proc, imagesDir: '/w/dump', actionScript: '/w/dump/followme-post-dump' });
    expect(hooked.slice(-2)).toEqual(['--action-script', '/w/dump/followme-post-dump']);
  });

  it("keeps LXC's options by default, and changes only what a tuning asks for", () => {
    const lxcDefault = criu.dump({ container: proc, imagesDir: '/w/dump' });
    expect(lxcDefault).toContain('--force-irmap');
    expect(lxcDefault).not.toContain('--network-lock');
    const tuning = { networkLock: 'nftables', preDumpMode: 'read', forceIrmap: 'if-inotify', warmKdat: true, network: 'dumped' } as const;
    const dump = criu.dump({ container: proc, imagesDir: '/w/dump', tuning });
    expect(dump.join(' ')).toContain('--network-lock nftables');
    expect(dump).not.toContain('--force-irmap');
    // The read mode is a pre-dump's: a dump refuses it.
    expect(dump).not.toContain('--pre-dump-mode=read');
    expect(criu.preDump({ container: proc, imagesDir: '/w/pre-1', tuning })).toContain('--pre-dump-mode=read');
    expect(criu.preDump({ container: proc, imagesDir: '/w/pre-1' }).some((a) => a.startsWith('--pre-dump-mode'))).toBe(false);
    // Warming CRIU's kernel cache only makes it when it is missing, and succeeds once it is there.
    expect(criu.warmKdat()).toEqual(['sh', '-c', '[ -e /run/criu.kdat ] || criu check >/dev/null 2>&1; [ -e /run/criu.kdat ]']);
    expect(dump).not.toContain('--external');
    // A prepared network: the final dump names the container's namespace external by its inode; a pre-dump has none to name.
    const prepared = { ...tuning, network: 'prepared' } as const;
    const out = criu.dump({ container: proc, imagesDir: '/w/dump', tuning: prepared });
    expect(out[out.indexOf('--external') + 1]).toBe('net[4026532236]:followme-net');
    expect(criu.preDump({ container: proc, imagesDir: '/w/pre-1', tuning: prepared })).not.toContain('--external');
    // A container with inotify watches still gets --force-irmap: CRIU needs it to find the watched files.
    expect(criu.dump({ container: { ...proc, inotify: true }, imagesDir: '/w/dump', tuning })).toContain('--force-irmap');
  });

  it('runs a page server as a daemon with a pid file and its parent link', () => {
    expect(criu.pageServer({ imagesDir: '/w/pre-2', address: '10.77.10.11', port: 30002, pidFile: '/w/pre-2/ps.pid', prevImagesDir: '../pre-1' })).toEqual([
      'criu',
      'page-server',
      '--images-dir',
      '/w/pre-2',
      '--address',
      '10.77.10.11',
      '--port',
      '30002',
      '--daemon',
      '--pidfile',
      '/w/pre-2/ps.pid',
      '-o',
      '/w/pre-2/page-server.log',
      '--prev-images-dir',
      '../pre-1',
    ]);
  });

  it('reads the container probe and CRIU’s version', () => {
    expect(parseContainerProcess('839\n/lxc.payload.c1\ncpuset cpu io memory\nno-inotify\n4026532236\n', 'x')).toEqual({
      initPid: 839,
      cgroup: 'lxc.payload.c1',
      controllers: ['cpuset', 'cpu', 'io', 'memory'],
      hostLinks: [],
      inotify: false,
      netnsInode: 4026532236,
    });
    const probed = parseContainerProcess('839\n/lxc.payload.c1\ncpu\ninotify\n4026532236\nvethfF3S08\nvethA\n', 'x');
    expect(probed.hostLinks).toEqual(['vethfF3S08', 'vethA']);
    expect(probed.inotify).toBe(true);
    expect(() => parseContainerProcess('839\n/lxc.payload.c1\ncpu\nno-inotify\n1\nveth$(reboot)\n', 'edge-a: c1')).toThrow(/not an interface name/);
    expect(() => parseContainerProcess('839\n/lxc.payload.c1\ncpu\nno-inotify\nvethA\n', 'edge-a: c1')).toThrow(/no network namespace inode/);
    expect(() => parseContainerProcess('839\n/lxc.payload.c1\ncpu\nvethA\n', 'edge-a: c1')).toThrow(/no inotify line/);
    expect(() => parseContainerProcess('\n', 'edge-a: c1')).toThrow(/edge-a: c1: no init PID/);
    expect(() => parseContainerProcess('839\n\n\n', 'edge-a: c1')).toThrow(/no cgroup v2 path/);
    expect(parseCriuVersion('Version: 4.1.1\n')).toBe('4.1.1');
  });
});
