// The CLI's contract as a process (dist/cli/main.js): exit codes, usage on a
// usage error, --version, and every flag checked before anything is made.
// A fake virsh on PATH records whether libvirt would have been touched.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../common/paths.js';
import { scratchDir } from '../scratch.js';
import { exitCodeFor } from '../../cli/program.js';
import { CommandError, ConfigError, ConflictError, FollowmeError, ReadinessTimeoutError } from '../../common/errors.js';
import { UnsafePathError } from '../../common/input/remote-path.js';

/** Runs the built CLI with a recording fake virsh first on PATH and private state and cache dirs. */
async function followme(args: string[]) {
  const d = scratchDir('fm-contract-');
  const bin = join(d, 'bin');
  const calls = join(d, 'virsh-calls');
  await execa('mkdir', ['-p', bin, join(d, 'state'), join(d, 'cache')]);
  writeFileSync(join(bin, 'virsh'), `#!/bin/sh\necho "$*" >> ${calls}\necho "error: failed to connect to the hypervisor (fake virsh)" >&2\nexit 1\n`, {
    mode: 0o755,
  });
  const r = await execa('node', [join(projectRoot(), 'dist/cli/main.js'), ...args], {
    reject: false,
    env: { PATH: `${bin}:${process.env['PATH']}`, FOLLOWME_STATE_DIR: join(d, 'state'), FOLLOWME_CACHE_DIR: join(d, 'cache') },
    timeout: 60_000,
  });
  return {
    code: r.exitCode,
    out: String(r.stdout),
    err: String(r.stderr),
    virshCalls: existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : [],
    made: [...readdirSync(join(d, 'state')), ...readdirSync(join(d, 'cache'))],
    /** The pinned host keys written, one file's text each. */
    pinned: existsSync(join(d, 'state/hosts'))
      ? readdirSync(join(d, 'state/hosts'))
          .filter((f) => f.endsWith('.known_hosts'))
          .map((f) => readFileSync(join(d, 'state/hosts', f), 'utf8'))
      : [],
  };
}

// Each case starts Node once or twice: on a busy machine (a testbed's TCG guests) that outlasts vitest's 5 s default.
describe('followme as a process', { timeout: 60_000 }, () => {
  it('--version prints the package version and exits 0', async () => {
    const r = await followme(['--version']);
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe((JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version);
  });

  it.each([
    [['migrate', '--bogus'], /error: (unknown option '--bogus'|required option)/],
    [['migrate', '--inventory', 'x'], /error: required option '--strategy <name>' not specified/],
    [['testbed', 'status', 'extra'], /error: too many arguments for 'status'/],
    [['teleport'], /error: unknown command 'teleport'/],
    [[], /Usage: followme/],
  ])('usage error %j exits 2 and shows the usage', async (args, message) => {
    const r = await followme(args);
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).toMatch(/Usage: followme/);
    expect(r.virshCalls).toEqual([]);
  });

  it('demo --predumps 99999 is refused before libvirt is asked anything; the same demo with good flags does ask', async () => {
    const bad = await followme(['demo', '--predumps', '99999']);
    expect(bad.code, bad.err).toBe(2);
    expect(bad.err).toContain('--predumps: must be a whole number from 0 to 20, got "99999"');
    expect(bad.virshCalls).toEqual([]);
    expect(bad.made).toEqual([]);
    // Control: with good flags the demo goes on to look for the testbed in libvirt (the fake virsh records it, then fails).
    const good = await followme(['demo', '--predumps', '2']);
    expect(good.virshCalls.length).toBeGreaterThan(0);
    expect(good.code).toBe(5);
  });

  it('a testbed across two hosts pins the remote host key before libvirt is asked anything of either host', async () => {
    const cfg = join(scratchDir('fm-hosts-'), 'Pulumi.lab.yaml');
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEzmBYRHu0SGVGxhZNqvPnAnP+9Cq8uZjvZ0lH0GkTtU lab2';
    writeFileSync(
      cfg,
      [
        'config:',
        '  followme:topology:',
        '    prefix: fmlab',
        '    subnet: 10.77.40.0/24',
        '    image: { kind: debian, suite: trixie }',
        '    hosts:',
        '      - { name: lab1, libvirtUri: "qemu:///system", underlay: 192.168.50.1 }',
        `      - { name: lab2, libvirtUri: "qemu+ssh://root@192.168.50.2/system", underlay: 192.168.50.2, sshHostKey: "${key}" }`,
        '    nodes:',
        '      - { name: edge-a, role: edge, host: lab1 }',
        '      - { name: edge-b, role: edge, host: lab2 }',
        '',
      ].join('\n'),
    );
    const r = await followme(['testbed', 'up', '--config', cfg]);
    // The fake virsh fails the first question (exit 5); by then the remote host's key is pinned, and nothing else made.
    expect(r.code, r.err).toBe(5);
    expect(r.virshCalls.length).toBeGreaterThan(0);
    expect(r.made).toEqual(['hosts']);
    expect(r.pinned).toEqual([`192.168.50.2 ${key.split(' ').slice(0, 2).join(' ')}\n`]);
  });

  it('a user error never shows a stack trace', async () => {
    const r = await followme(['migrate', '--inventory', '/nonexistent', '--strategy', 'tmpfs', '--from', 'a', '--to', 'b']);
    expect(r.code).toBe(2);
    expect(r.err).toBe('followme: --inventory: cannot read inventory /nonexistent: ENOENT');
  });

  it('maps each error type to its exit code; anything else is a bug (70)', () => {
    expect(exitCodeFor(new ConfigError('x'))).toBe(2);
    expect(exitCodeFor(new UnsafePathError('x'))).toBe(2);
    expect(exitCodeFor(new ConflictError('x'))).toBe(3);
    expect(exitCodeFor(new ReadinessTimeoutError('n', 'ssh', '/log', '', 1000))).toBe(4);
    expect(exitCodeFor(new CommandError({ host: 'h', argv: ['x'], exitCode: 1, stderr: '', durationMs: 1, timedOut: false }))).toBe(5);
    expect(exitCodeFor(new FollowmeError('x'))).toBe(1);
    expect(exitCodeFor(new TypeError('x'))).toBe(70);
  });
});

describe('followme trace, without a testbed', { timeout: 60_000 }, () => {
  it('synthesises a trip along the corridor and shows its crossings, as text and as JSON', async () => {
    const d = scratchDir('fm-trace-');
    const synth = await followme(['trace', 'synth', '--speed', '72']);
    expect(synth.code).toBe(0);
    expect(synth.out.split('\n').slice(0, 3)).toEqual(['t,x,y', '0,0.00,0.00', '1,20.00,0.00']);
    writeFileSync(join(d, 'trip.csv'), synth.out);
    const shown = await followme(['trace', 'show', join(d, 'trip.csv'), '--json']);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.out)).toEqual({
      durationS: 100,
      lengthM: 2000,
      crossings: [
        { t: 26, from: 'edge-a', to: 'edge-b' },
        { t: 76, from: 'edge-b', to: 'edge-c' },
      ],
    });
    expect((await followme(['trace', 'show', join(d, 'trip.csv')])).out).toMatch(/duration 100 s, length 2000 m\n\s+26\.0 s {2}edge-a → edge-b\n/);
  });

  it.each([
    [['trace', 'synth', '--speed', 'fast'], /--speed: must be a number from 1 to 500, got "fast"/],
    [['trace', 'synth', '--stack', 'two-vm'], /two-vm\.yaml: followme:topology: its edges have no position and radiusM/],
    [['trace', 'show', 'test/fixtures/traces/fcd.xml'], /2 vehicles \(car0, bus1\); choose one with --vehicle ID/],
    [['trace', 'show', '/nonexistent/trip.csv'], /--trace: cannot read trace \/nonexistent\/trip\.csv: ENOENT/],
    [['follow', '--stack', 'corridor'], /--plan or --trace: give one/],
    [['follow', '--trace', 'plans/traces/corridor-50kmh.csv', '--stack', 'corridor', '--policy', 'teleport'], /--policy: .*teleport/],
    [
      ['follow', '--trace', 'plans/traces/corridor-50kmh.csv', '--stack', 'corridor', '--policy', 'reactive', '--strategy', 'lean'],
      /--strategy: reactive moves on shared storage, and none of lean does/,
    ],
    [['follow', '--trace', 'plans/traces/corridor-50kmh.csv', '--stack', 'two-vm'], /two-vm\.yaml: followme:topology: its edges have no position and radiusM/],
    [
      ['follow', '--trace', 'plans/traces/corridor-50kmh.csv', '--stack', 'corridor', '--latency', 'rural'],
      /--latency: no profile "rural" in .*corridor\.yaml.*; it has urban-5g/,
    ],
    [['follow', '--trace', 'test/fixtures/traces/fcd.xml', '--stack', 'corridor'], /2 vehicles \(car0, bus1\); choose one with --vehicle ID/],
    [['follow', '--trace', 'plans/traces/corridor-50kmh.csv', '--stack', 'corridor', '--speedup', '0'], /--speedup: must be a number from 0\.1 to 100/],
  ])('%j exits 2 naming the problem', async (args, message) => {
    const r = await followme(args.map((a) => (a.startsWith('test/') || a.startsWith('plans/') ? join(projectRoot(), a) : a)));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.made).toEqual([]);
  });
});
