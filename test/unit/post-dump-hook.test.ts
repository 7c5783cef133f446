// The final dump's post-dump hook, run by sh with a recording `ip` on PATH:
// it takes down only the links it was given that are veths, only at
// post-dump, and always exits 0 (a non-zero exit would make CRIU resume the
// container with its link down).
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { postDumpHook } from '../../migration/criu/post-dump-hook.js';

const dir = mkdtempSync(join(tmpdir(), 'followme-hook-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A fake `ip`: "link show dev X type veth" prints a line for veth* names only; every call is recorded.
const fakeIp = `#!/bin/sh
echo "$*" >> "${dir}/calls"
if [ "$1 $2 $3 $4" = "-o link show dev" ]; then case "$5" in veth*) echo "9: $5@if2: <UP> veth" ;; esac; fi
exit 0
`;
writeFileSync(join(dir, 'ip'), fakeIp);
chmodSync(join(dir, 'ip'), 0o755);

function runHook(links: string[], action: string): { calls: string[]; stderr: string } {
  const script = join(dir, 'hook');
  writeFileSync(script, postDumpHook(links));
  chmodSync(script, 0o755);
  rmSync(join(dir, 'calls'), { force: true });
  const out = execFileSync('sh', ['-c', `"$0" 2>&1`, script], {
    env: { PATH: `${dir}:/usr/bin:/bin`, CRTOOLS_SCRIPT_ACTION: action },
    encoding: 'utf8',
  });
  let calls: string[] = [];
  try {
    calls = readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n');
  } catch {
    calls = [];
  }
  return { calls, stderr: out };
}

describe('post-dump hook', () => {
  it('takes the container’s veth down at post-dump, and leaves a non-veth alone', () => {
    const { calls, stderr } = runHook(['vethfF3S08', 'ens2'], 'post-dump');
    expect(calls).toContain('link set dev vethfF3S08 down');
    expect(calls.filter((c) => c.startsWith('link set'))).toEqual(['link set dev vethfF3S08 down']);
    expect(stderr).toContain('vethfF3S08 down');
    expect(stderr).toContain('ens2 is not a veth here, left alone');
  });

  it('does nothing at CRIU’s other actions', () => {
    for (const action of ['pre-dump', 'network-lock', 'network-unlock', 'pre-restore']) expect(runHook(['vethfF3S08'], action).calls).toEqual([]);
  });

  it('refuses a link name a shell would read', () => {
    expect(() => postDumpHook(['veth$(reboot)'])).toThrow(/not an interface name/);
    expect(() => postDumpHook(["a'b"])).toThrow(/not an interface name/);
  });
});
