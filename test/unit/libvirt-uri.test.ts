import { describe, expect, it } from 'vitest';
import { isLocalUri, libvirtUriProblem } from '../../common/input/libvirt-uri.js';

describe('libvirt URI allow-list', () => {
  it.each([
    'qemu:///system',
    'qemu:///session',
    'qemu+unix:///system',
    'qemu+ssh://lab2/system',
    'qemu+ssh://root@lab2.example.org:2222/system?keyfile=/root/.ssh/lab&no_tty=1',
    'qemu+libssh2://lab2/system?known_hosts=/root/.ssh/known_hosts&sshauth=privkey,agent',
    'qemu+tls://lab2/system?pkipath=/etc/pki/lab&tls_priority=NORMAL:-VERS-SSL3.0',
    'qemu+ssh://lab2/system?mode=direct',
    'qemu+tcp://10.0.0.2:16509/system',
  ])('takes %s', (uri) => {
    expect(libvirtUriProblem(uri)).toBeUndefined();
  });

  it.each([
    ['qemu+ssh://h/system?command=/tmp/prog', /parameter "command" is not allowed for qemu\+ssh; allowed: keyfile, no_tty, mode/],
    ['qemu+ssh://h/system?comm%61nd=/tmp/prog', /parameter "comm%61nd" is not allowed/],
    ['qemu+ssh://h/system?keyfile=/tmp/k&netcat=/tmp/nc', /parameter "netcat"/],
    ['qemu+ssh://h/system?keyfile=relative', /keyfile=relative: must be an absolute path/],
    ['qemu+ssh://h/system?mode=legacy', /mode=legacy: must be auto or direct/],
    ['qemu+tcp://h/system?no_tty=1', /it takes none/],
    ['qemu:///system?socket=/x', /parameter "socket" is not allowed for qemu/],
    ['qemu+unix://h/system', /names no host/],
    ['qemu+ext:///system', /scheme "qemu\+ext" is not allowed/],
    ['xen:///system', /scheme "xen" is not allowed/],
    ['qemu+ssh://h;touch x/system', /is not a host name/],
    ['qemu:///root', /not a libvirt QEMU URI/],
  ])('refuses %s', (uri, why) => {
    expect(libvirtUriProblem(uri)).toMatch(why);
  });

  it('cuts a long value in its message', () => {
    expect(libvirtUriProblem(`qemu+ssh://h/system?keyfile=${'x'.repeat(2000)}`)!.length).toBeLessThan(300);
  });

  it('knows which URIs reach this machine’s own libvirtd', () => {
    expect(isLocalUri('qemu:///system')).toBe(true);
    expect(isLocalUri('qemu+unix:///session')).toBe(true);
    expect(isLocalUri('qemu+ssh://lab2/system')).toBe(false);
  });
});
