// libvirt's qemu+ssh runs the ssh on PATH: followme's wrapper hands it the
// pinned key alone. Run here with a stand-in ssh that prints what it got.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../common/errors.js';
import { knownHostsFileFor, knownHostsLine, pinHostKey, pinnedSshEnv } from '../../provision/hosts/pinned-ssh.js';
import { scratchDir } from '../scratch.js';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEzmBYRHu0SGVGxhZNqvPnAnP+9Cq8uZjvZ0lH0GkTtU lab2';
const URI = 'qemu+ssh://root@192.168.50.2:2222/system';

describe("the pinned host key for libvirt's ssh transport", () => {
  let saved: string | undefined;
  beforeEach(() => {
    saved = process.env['FOLLOWME_STATE_DIR'];
    process.env['FOLLOWME_STATE_DIR'] = scratchDir('fm-pinned-');
  });
  afterEach(() => {
    if (saved === undefined) delete process.env['FOLLOWME_STATE_DIR'];
    else process.env['FOLLOWME_STATE_DIR'] = saved;
  });

  it('writes the key alone, as ssh looks it up at that host and port, in a file only root reads', () => {
    expect(knownHostsLine(URI, KEY)).toBe('[192.168.50.2]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEzmBYRHu0SGVGxhZNqvPnAnP+9Cq8uZjvZ0lH0GkTtU\n');
    expect(knownHostsLine('qemu+ssh://lab2/system', KEY)).toMatch(/^lab2 ssh-ed25519 /);
    pinHostKey(URI, KEY);
    expect(readFileSync(knownHostsFileFor(URI), 'utf8')).toBe(knownHostsLine(URI, KEY));
    expect(statSync(knownHostsFileFor(URI)).mode & 0o777).toBe(0o600);
  });

  it('refuses a remote URI whose key was never pinned', () => {
    expect(() => pinnedSshEnv('qemu+ssh://lab9/system')).toThrow(ConfigError);
  });

  it("runs the real ssh with the pinned file as its only known hosts, strictly, never the user's", () => {
    pinHostKey(URI, KEY);
    const env = pinnedSshEnv(URI);
    // A stand-in for the real ssh, after the wrapper on PATH.
    const fake = scratchDir('fm-fake-ssh-');
    writeFileSync(join(fake, 'ssh'), '#!/bin/sh\nprintf "%s\\n" "$@"\n', { mode: 0o755 });
    const [wrapperDir] = env['PATH']!.split(':');
    const out = execFileSync(join(wrapperDir!, 'ssh'), ['-p', '2222', 'root@192.168.50.2', 'true'], {
      env: { PATH: `${wrapperDir}:${fake}:/usr/bin:/bin` },
    }).toString();
    expect(out.split('\n')).toEqual([
      '-o',
      `UserKnownHostsFile=${knownHostsFileFor(URI)}`,
      '-o',
      'GlobalKnownHostsFile=/dev/null',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'ForwardAgent=no',
      '-p',
      '2222',
      'root@192.168.50.2',
      'true',
      '',
    ]);
    // Without the file it runs nothing.
    rmSync(knownHostsFileFor(URI));
    const none = spawnSync(join(wrapperDir!, 'ssh'), ['root@192.168.50.2'], { env: { PATH: `${wrapperDir}:${fake}:/usr/bin:/bin` } });
    expect(none.status).toBe(255);
    expect(none.stdout.toString()).toBe('');
  });
});
