import { describe, expect, it } from 'vitest';
import { moduleUrl, parseBytesSent, parseProgress, receiverConfig, rsync } from '../../migration/rsync/commands.js';

const r = {
  address: '10.77.10.11',
  port: 20010,
  modules: { work: '/tmp/followme-migrations/m1', container: '/var/lib/lxc/c1' },
  runDir: '/run/followme-rsyncd-x',
};

describe('rsync seam', () => {
  it('exports only the migration’s directories, each chrooted, to the sending edge alone', () => {
    const cfg = receiverConfig(r, '10.77.10.10');
    expect(cfg).not.toMatch(/^path = \/$/m);
    expect(cfg.match(/^path = .*$/gm)).toEqual(['path = /tmp/followme-migrations/m1', 'path = /var/lib/lxc/c1']);
    expect(cfg.match(/^\[.*\]$/gm)).toEqual(['[work]', '[container]']);
    expect(cfg).toContain('use chroot = yes\n');
    expect(cfg).toContain('munge symlinks = no\n');
    expect(cfg.match(/^hosts allow = 10\.77\.10\.10$/gm)).toHaveLength(2);
    expect(cfg.match(/^hosts deny = \*$/gm)).toHaveLength(2);
    expect(cfg).toContain('pid file = /run/followme-rsyncd-x/rsyncd.pid\n');
  });

  it('refuses to write a value that could add a line of its own', () => {
    expect(() => receiverConfig({ ...r, modules: { work: '/tmp/x\npath = /' } }, '10.77.10.10')).toThrow(/rsyncd\.conf: module path .* is not a plain path/);
    expect(() => receiverConfig(r, '10.77.10.10\nhosts allow = *')).toThrow(/allowed host/);
    expect(() => receiverConfig({ ...r, modules: { 'a]\n[root': '/x' } }, '10.77.10.10')).toThrow(/module/);
  });

  it('pushes a directory’s contents into a module, below its root only', () => {
    expect(rsync.push('/var/lib/lxc/c1/', r, 'container')).toEqual([
      'rsync',
      '-a',
      '--numeric-ids',
      '--stats',
      '--contimeout=15',
      '--timeout=60',
      '/var/lib/lxc/c1/',
      'rsync://10.77.10.11:20010/container/',
    ]);
    expect(rsync.push('/tmp/followme-migrations/m1/pre-1', r, 'work', 'pre-1')).toContain('rsync://10.77.10.11:20010/work/pre-1/');
    expect(rsync.push('/a', r, 'work', '', { mirror: true })).toContain('--delete');
    expect(() => moduleUrl(r, 'work', '../../etc')).toThrow(/not a plain relative path/);
    expect(() => moduleUrl(r, 'root')).toThrow(/no module "root"/);
    expect(() => moduleUrl(r, 'toString')).toThrow(/no module/);
    expect(rsync.daemon(r)).toEqual(['rsync', '--daemon', '--config=/run/followme-rsyncd-x/rsyncd.conf', '--address=10.77.10.11', '--port=20010']);
  });

  it('reads the bytes sent from --stats', () => {
    expect(parseBytesSent('Number of files: 3\nTotal bytes sent: 190,294,701\nTotal bytes received: 95,642\n')).toBe(190294701);
    expect(parseBytesSent('nothing')).toBeUndefined();
  });

  it('reads the latest progress of --info=progress2 from a streamed chunk', () => {
    expect(parseProgress('\r     12,345,678  45%   10.50MB/s    0:00:05 (xfr#12, ir-chk=1000/2000)\r     20,000,000  73%   11.02MB/s    0:00:08')).toEqual({
      percent: 73,
      rate: '11.02MB/s',
    });
    expect(parseProgress('sending incremental file list')).toBeUndefined();
    expect(rsync.push('/a', r, 'work', '', { progress: true })).toContain('--info=progress2');
  });
});
