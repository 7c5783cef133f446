import { describe, expect, it } from 'vitest';
import { parseBytesSent, parseProgress, receiverConfig, rsync } from '../../migration/rsync/commands.js';

const r = { address: '10.77.10.11', port: 20010, module: 'followme', runDir: '/run/followme-rsyncd-x' };

describe('rsync seam', () => {
  it('lets only the sending edge push, and keeps symlinks as they are', () => {
    const cfg = receiverConfig(r, '10.77.10.10');
    expect(cfg).toContain('munge symlinks = no\n');
    expect(cfg).toContain('hosts allow = 10.77.10.10\n');
    expect(cfg).toContain('hosts deny = *\n');
    expect(cfg).toContain('pid file = /run/followme-rsyncd-x/rsyncd.pid\n');
  });

  it('pushes a directory’s contents to the same path on the receiver', () => {
    expect(rsync.push('/var/lib/lxc/c1/', r, '/var/lib/lxc/c1')).toEqual(['rsync', '-a', '--numeric-ids', '--stats', '/var/lib/lxc/c1/', 'rsync://10.77.10.11:20010/followme/var/lib/lxc/c1/']);
    expect(rsync.push('/a', r, '/a', { mirror: true })).toContain('--delete');
    expect(rsync.daemon(r)).toEqual(['rsync', '--daemon', '--config=/run/followme-rsyncd-x/rsyncd.conf', '--address=10.77.10.11', '--port=20010']);
  });

  it('reads the bytes sent from --stats', () => {
    expect(parseBytesSent('Number of files: 3\nTotal bytes sent: 190,294,701\nTotal bytes received: 95,642\n')).toBe(190294701);
    expect(parseBytesSent('nothing')).toBeUndefined();
  });

  it('reads the latest progress of --info=progress2 from a streamed chunk', () => {
    expect(parseProgress('\r     12,345,678  45%   10.50MB/s    0:00:05 (xfr#12, ir-chk=1000/2000)\r     20,000,000  73%   11.02MB/s    0:00:08')).toEqual({ percent: 73, rate: '11.02MB/s' });
    expect(parseProgress('sending incremental file list')).toBeUndefined();
    expect(rsync.push('/a', r, '/a', { progress: true })).toContain('--info=progress2');
  });
});
