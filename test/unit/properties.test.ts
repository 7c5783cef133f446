// Property-based tests (fast-check) of the input layer. Generated invalid
// configs, inventories and flags exit 2 with a message naming the key,
// create nothing (a fake virsh records any call, an SSH server on loopback
// records any command) and print no stack trace; generated hostile names
// never reach a remote command unquoted or a path outside its base.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { execaSync } from 'execa';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { commandLine } from '../../common/ssh/quote.js';
import { underBase } from '../../common/input/remote-path.js';
import { hasBreakOrNul } from '../../common/input/clip.js';
import { CONTAINER_NAME_PATTERN } from '../../common/input/patterns.js';
import { keySegment } from '../../common/input/ajv.js';
import { cli, STACK_TRACE } from '../cli-run.js';
import { clientKey, loopbackInventory, startRecordingSshServer, type RecordingSshServer } from '../harness/recording-ssh-server.js';
import { twoVm } from './fixtures.js';

const RUNS = 60;
let dir: string;
let server: RecordingSshServer;
let key: { privateKeyPath: string; publicKey: string };
const virshCalls = () => (existsSync(join(dir, 'virsh-calls')) ? 1 : 0);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'followme-props-'));
  // A fake virsh first on PATH: any libvirt call leaves a file behind.
  writeFileSync(join(dir, 'virsh'), `#!/bin/sh\necho "$*" >> ${join(dir, 'virsh-calls')}\nexit 1\n`, { mode: 0o755 });
  process.env['PATH'] = `${dir}:${process.env['PATH']}`;
  process.env['FOLLOWME_STATE_DIR'] = join(dir, 'state');
  process.env['FOLLOWME_CACHE_DIR'] = join(dir, 'cache');
  key = clientKey(dir);
  server = await startRecordingSshServer(key.publicKey);
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Strings with the characters that break shells, configs and paths. */
const HOSTILE = [' ', "'", '"', ';', '$(', ')', '`', '\n', '..', '/', '\\', '*', '&', '|', '>', '#', '~', '{a,b}', '\t', '\u0000'];
const hostile = fc.string({ unit: fc.constantFrom(...HOSTILE, 'a', 'Z', '0', '-', '_', '.'), minLength: 0, maxLength: 12 });
const notMatching = (pattern: string) => fc.oneof(hostile, fc.string({ maxLength: 20 })).filter((s) => !new RegExp(pattern).test(s));

describe('quoting (real bash)', () => {
  it('any argv reaches the remote command as exactly those words, and nothing in it runs', () => {
    const marker = join(dir, 'ran');
    const payload = fc.string({ unit: fc.constantFrom(...HOSTILE.filter((c) => c !== '\u0000'), `touch ${marker}`, '$HOME', 'a', '=') });
    fc.assert(
      fc.property(fc.array(payload, { maxLength: 5 }), (args) => {
        const line = commandLine(['printf', '%s\\0', ...args]);
        const r = execaSync('bash', ['-c', line], { cwd: dir, stripFinalNewline: false, encoding: 'utf8' });
        const words = args.length ? String(r.stdout).split('\0').slice(0, -1) : [];
        expect(words).toEqual(args.length ? args : []);
        expect(existsSync(marker)).toBe(false);
      }),
      { numRuns: 150 },
    );
  });
});

describe('remote paths', () => {
  it('a path built from any component stays strictly below its base, or is refused', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(hostile, fc.constantFrom('..', '.', '', 'a/../..')), { minLength: 1, maxLength: 3 }), (parts) => {
        let p: string | undefined;
        try {
          p = underBase('/var/lib/lxc', ...parts);
        } catch (e) {
          expect((e as Error).name).toBe('UnsafePathError');
          return;
        }
        expect(posix.normalize(p)).toBe(p);
        expect(p.startsWith('/var/lib/lxc/')).toBe(true);
        expect(hasBreakOrNul(p)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

/** A one-key change that makes a topology invalid, and the key the message must name. */
const topologyMutation = fc.oneof(
  notMatching('^[a-z][a-z0-9]{1,11}$').map((v) => ({ key: 'prefix', set: (t: Record<string, unknown>) => ({ ...t, prefix: v }) })),
  fc
    .oneof(
      notMatching('^\\d'),
      fc.constantFrom('127.0.0.0/24', '224.0.0.0/24', '0.0.0.0/16', '010.77.10.0/24', '10.77.10.0/8', '10.77.10.5/24', '10.77.10.0/30', '169.254.1.0/24'),
    )
    .map((v) => ({ key: 'subnet', set: (t: Record<string, unknown>) => ({ ...t, subnet: v }) })),
  fc
    .oneof(fc.integer({ min: -1000, max: 511 }), fc.double({ min: 512, max: 4096, noInteger: true }), hostile)
    .map((v) => ({ key: 'defaults.memoryMiB', set: (t: Record<string, unknown>) => ({ ...t, defaults: { memoryMiB: v } }) })),
  fc.tuple(fc.constantFrom('command', 'socket', 'netcat', 'proxy', 'name', 'no_verify', 'known_hosts_verify'), hostile).map(([p, v]) => ({
    key: 'defaults.libvirtUri',
    set: (t: Record<string, unknown>) => ({ ...t, defaults: { libvirtUri: `qemu+ssh://lab/system?${p}=${v}` } }),
  })),
  fc.tuple(fc.nat({ max: 1 }), notMatching('^[a-z][a-z0-9-]{0,14}$')).map(([i, v]) => ({
    key: `nodes[${i}].name`,
    set: (t: Record<string, unknown>) => ({ ...t, nodes: (t['nodes'] as object[]).map((n, j) => (j === i ? { ...n, name: v } : n)) }),
  })),
  fc
    .string({ minLength: 1, maxLength: 10 })
    .filter((k) => !['prefix', 'subnet', 'image', 'sshUser', 'hypervisor', 'defaults', 'nodes', '__proto__'].includes(k))
    .map((k) => ({ key: keySegment(k).replace(/^\./, ''), set: (t: Record<string, unknown>) => ({ ...t, [k]: 1 }) })),
);

describe('topology configs', () => {
  it('every generated invalid config exits 2 naming the key, asks libvirt nothing, writes no state', async () => {
    await fc.assert(
      fc.asyncProperty(topologyMutation, fc.constantFrom('status', 'down', 'up'), async (m, verb) => {
        const cfg = join(dir, 'Pulumi.gen.yaml');
        writeFileSync(cfg, stringify({ config: { 'followme:topology': m.set(twoVm() as unknown as Record<string, unknown>) } }));
        const r = await cli(['testbed', verb, '--config', cfg]);
        expect(r.code, r.err).toBe(2);
        expect(r.err).toContain(`followme:topology${m.key.startsWith('[') ? '' : '.'}${m.key}`);
        expect(r.err).not.toMatch(STACK_TRACE);
        expect(virshCalls()).toBe(0);
        expect(existsSync(join(dir, 'state')) ? readdirSync(join(dir, 'state')) : []).toEqual([]);
      }),
      { numRuns: RUNS },
    );
  });
});

type Inv = ReturnType<typeof loopbackInventory>;
const nodeField = (field: string, v: unknown) => (inv: Inv) => ({ ...inv, nodes: inv.nodes.map((n, j) => (j === 0 ? { ...n, [field]: v } : n)) });
const inventoryMutation = fc.oneof(
  fc
    .oneof(notMatching('^\\d'), fc.constantFrom('999.1.1.1', '127.0.0.01', '1.2.3', '127.0.0.1 ', '10.0.0.1'))
    .map((v) => ({ key: 'nodes[0].ip', set: nodeField('ip', v) })),
  notMatching('^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}$').map((v) => ({ key: 'nodes[0].mac', set: nodeField('mac', v) })),
  notMatching('^[a-z][a-z0-9-]{0,14}$').map((v) => ({ key: 'nodes[0].name', set: nodeField('name', v) })),
  notMatching('^[a-z_][a-z0-9_-]{0,31}$').map((v) => ({ key: 'nodes[0].sshUser', set: nodeField('sshUser', v) })),
  fc
    .oneof(hostile, fc.constant('relative/key'))
    .filter((v) => !v.startsWith('/'))
    .map((v) => ({ key: 'nodes[0].privateKeyPath', set: nodeField('privateKeyPath', v) })),
  fc
    .tuple(fc.constantFrom('command', 'socket', 'netcat', 'proxy'), hostile)
    .map(([p, v]) => ({ key: 'nodes[0].libvirtUri', set: nodeField('libvirtUri', `qemu+ssh://h/system?${p}=${v}`) })),
  notMatching('^/(?:[A-Za-z0-9._-]+/?)*$').map((v) => ({ key: 'nfs.export', set: (inv: Inv) => ({ ...inv, nfs: { ...inv.nfs!, export: v } }) })),
  notMatching('^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}$').map((v) => ({
    key: 'containerAddresses[0].mac',
    set: (inv: Inv) => ({ ...inv, containerAddresses: [{ ip: '127.0.0.250', mac: v }] }),
  })),
  fc
    .oneof(fc.integer(), hostile)
    .filter((v) => v !== 1)
    .map((v) => ({ key: 'version', set: (inv: Inv) => ({ ...inv, version: v }) })),
);

describe('inventories', () => {
  it('every generated invalid inventory exits 2 naming the key and sends the nodes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(inventoryMutation, fc.constantFrom('deploy', 'remove'), async (m, verb) => {
        const inv = join(dir, 'inventory.json');
        writeFileSync(inv, JSON.stringify(m.set(loopbackInventory(server, key.privateKeyPath) as Inv)));
        const before = { c: server.connections, n: server.commands.length };
        const r = await cli(['container', verb, '--inventory', inv, '--node', 'edge-a']);
        expect(r.code, r.err).toBe(2);
        expect(r.err).toContain(`inventory.json.${m.key}`);
        expect(r.err).not.toMatch(STACK_TRACE);
        expect([server.connections, server.commands.length]).toEqual([before.c, before.n]);
      }),
      { numRuns: RUNS },
    );
  });
});

/** A remote command line in which nothing is unquoted: plain words or single-quoted ones. Returns its words. */
function wordsOfQuotedLine(line: string): string[] | undefined {
  const word = /(?:[A-Za-z0-9_\-./=:,@%+]+|'[^']*'|\\')+/y;
  const words: string[] = [];
  let at = 0;
  while (at < line.length) {
    word.lastIndex = at;
    const m = word.exec(line);
    if (!m) return undefined;
    words.push(m[0].replace(/'([^']*)'|\\'/g, (_, q: string | undefined) => q ?? "'"));
    at = word.lastIndex;
    if (at < line.length) {
      if (line[at] !== ' ') return undefined;
      at++;
    }
  }
  return words;
}

describe('CLI flags', () => {
  it('a generated container name is refused before any node is reached, or reaches it quoted and inside /var/lib/lxc', async () => {
    const inv = join(dir, 'good-inventory.json');
    writeFileSync(inv, JSON.stringify(loopbackInventory(server, key.privateKeyPath)));
    const seen = { accepted: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(fc.oneof(hostile, fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,8}$/)), fc.constantFrom('remove', 'deploy'), async (name, verb) => {
        const before = server.commands.length;
        const r = await cli(['container', verb, '--inventory', inv, '--node', 'edge-a', '--name', name]);
        const sent = server.commands.slice(before);
        if (!new RegExp(CONTAINER_NAME_PATTERN).test(name)) {
          seen.refused++;
          expect(r.code, r.err).toBe(2);
          expect(r.err).toContain('--name');
          expect(sent).toEqual([]);
          return;
        }
        seen.accepted++;
        expect(sent.length).toBeGreaterThan(0);
        for (const line of sent) {
          const words = wordsOfQuotedLine(line);
          expect(words, `unquoted text in ${JSON.stringify(line)}`).toBeDefined();
          for (const w of words!.filter((x) => x.includes('/var/lib/lxc'))) {
            expect(posix.normalize(w).startsWith(`/var/lib/lxc/${name}`)).toBe(true);
          }
        }
      }),
      { numRuns: RUNS },
    );
    // Both branches ran: the property was not vacuous.
    expect(seen.accepted).toBeGreaterThan(0);
    expect(seen.refused).toBeGreaterThan(0);
  });

  it.each([
    [
      '--predumps',
      fc
        .oneof(hostile, fc.integer({ min: 21, max: 1e9 }).map(String), fc.constant('-1'), fc.constant('1e3'))
        .filter((v) => !(/^\d{1,9}$/.test(v) && Number(v) <= 20)),
    ],
    ['--strategy', fc.oneof(hostile, fc.constantFrom('toString', '__proto__', 'constructor', 'TMPFS'))],
    ['--from', hostile.filter((s) => s !== 'edge-a' && s !== 'edge-b')],
  ] as const)('migrate %s: every generated bad value exits 2 naming it, nothing sent', async (flag, values) => {
    const inv = join(dir, 'good-inventory.json');
    writeFileSync(inv, JSON.stringify(loopbackInventory(server, key.privateKeyPath)));
    await fc.assert(
      fc.asyncProperty(values, async (v) => {
        const args = { '--strategy': 'tmpfs', '--from': 'edge-a', '--to': 'edge-b', '--predumps': '2', [flag]: v };
        const before = { c: server.connections, n: server.commands.length };
        const r = await cli(['migrate', '--inventory', inv, ...Object.entries(args).flat()]);
        expect(r.code, r.err).toBe(2);
        expect(r.err).toContain(flag);
        expect(r.err).not.toMatch(STACK_TRACE);
        expect([server.connections, server.commands.length]).toEqual([before.c, before.n]);
      }),
      { numRuns: 40 },
    );
  });
});
