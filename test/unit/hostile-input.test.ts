// The defects of issue #7, each reproduced: hostile or broken input exits 2
// with a message naming the flag or key, prints no stack trace, and reaches
// no node. The nodes are an SSH server on loopback that records what it
// receives; a good command shows that it does record.
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { clientKey, loopbackInventory, startRecordingSshServer, writeJson, type RecordingSshServer } from '../harness/recording-ssh-server.js';
import { cli, STACK_TRACE } from '../cli-run.js';
import { scratchDir } from '../scratch.js';
import { validateTopology } from '../../provision/topology/validate.js';
import { buildPlan } from '../../provision/plan/plan.js';
import { image, keysFor, twoVm } from './fixtures.js';

let server: RecordingSshServer;
let dir: string;
let key: { privateKeyPath: string; publicKey: string };

beforeAll(async () => {
  // For the whole file (scratchDir() is per test): the server's client key.
  dir = mkdtempSync(join(tmpdir(), 'followme-hostile-'));
  key = clientKey(dir);
  server = await startRecordingSshServer(key.publicKey);
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const inventoryFile = (over: Parameters<typeof loopbackInventory>[2] = {}) =>
  writeJson(scratchDir('fm-inv-'), 'inventory.json', loopbackInventory(server, key.privateKeyPath, over));

/** Exit 2, the message names `flag`, no stack trace, and the recording server saw nothing new. */
async function refusedBeforeAnyNode(args: string[], names: RegExp): Promise<string> {
  const before = { connections: server.connections, commands: server.commands.length };
  const r = await cli(args);
  expect(r.code, r.err).toBe(2);
  expect(r.err).toMatch(names);
  expect(r.err).not.toMatch(STACK_TRACE);
  expect(server.connections).toBe(before.connections);
  expect(server.commands.length).toBe(before.commands);
  return r.err;
}

describe('the recording server (control)', () => {
  it('records what a good command sends: remove reaches the edge and deletes only the container’s own directory', async () => {
    const before = server.commands.length;
    const r = await cli(['container', 'remove', '--inventory', inventoryFile(), '--node', 'edge-a', '--name', 'web1']);
    expect(r.code, r.err).toBe(0);
    const sent = server.commands.slice(before);
    expect(sent).toContain('lxc-info -n web1 -s -H');
    expect(sent).toContain('rm -rf --one-file-system /var/lib/lxc/web1');
  });
});

describe('defect 1: container names reaching paths and LXC configs', () => {
  it.each([
    ['remove', ''],
    ['remove', '../../../etc'],
    ['remove', '.'],
    ['remove', 'a/b'],
    ['deploy', 'x\nlxc.hook.pre-start = /bin/sh -c "touch /pwned"'],
    ['deploy', "blank'; rm -rf / #"],
  ])('container %s --name %j: exit 2, nothing sent', async (verb, name) => {
    await refusedBeforeAnyNode(['container', verb, '--inventory', inventoryFile(), '--node', 'edge-a', '--name', name], /--name: .* is not a container name/);
  });

  it('the same with --shared (the share on the NFS server)', async () => {
    await refusedBeforeAnyNode(['container', 'remove', '--inventory', inventoryFile(), '--node', 'edge-a', '--name', '', '--shared'], /--name/);
  });
});

describe('defect 2: libvirt URIs that run programs', () => {
  it.each([
    ['qemu+ssh://h/system?command=PROG', /parameter "command" is not allowed/],
    ['qemu+ssh://h/system?netcat=PROG', /parameter "netcat" is not allowed/],
    ['qemu+ssh://h/system?proxy=netcat', /parameter "proxy" is not allowed/],
    ['qemu:///system?socket=/tmp/evil.sock', /parameter "socket" is not allowed/],
    ['qemu+ssh://h/system?mode=legacy', /mode=legacy: must be auto or direct/],
    ['qemu+ext:///system?command=PROG', /scheme "qemu\+ext" is not allowed/],
    ['qemu+ssh://h/system?no_verify=1', /parameter "no_verify" is not allowed/],
  ])('%s: testbed status and down exit 2 naming the key; the program never runs', async (uri, why) => {
    const d = scratchDir('fm-uri-');
    const marker = join(d, 'ran');
    const prog = join(d, 'prog.sh');
    writeFileSync(prog, `#!/bin/sh\ntouch ${marker}\n`, { mode: 0o755 });
    const t = { ...twoVm(), defaults: { libvirtUri: uri.replace('PROG', prog) } };
    const cfg = join(d, 'Pulumi.x.yaml');
    writeFileSync(cfg, stringify({ config: { 'followme:topology': t } }));
    for (const verb of ['status', 'down']) {
      const r = await cli(['testbed', verb, '--config', cfg]);
      expect(r.code, r.err).toBe(2);
      expect(r.err).toContain('followme:topology.defaults.libvirtUri');
      expect(r.err).toMatch(why);
      expect(r.err).not.toMatch(STACK_TRACE);
    }
    expect(existsSync(marker)).toBe(false);
  });

  it('allows the plain local URI and ssh with a key file', () => {
    expect(
      validateTopology({ ...twoVm(), defaults: { libvirtUri: 'qemu+ssh://root@lab2:2222/system?keyfile=/root/.ssh/lab&no_tty=1' } }).defaults?.libvirtUri,
    ).toContain('lab2');
  });
});

describe('defect 3: the private key', () => {
  it.each([
    ['missing', (d: string) => join(d, 'absent'), /privateKeyPath: cannot read .*ENOENT/],
    ['a directory', (d: string) => d, /privateKeyPath: .* is not a regular file/],
    ['readable by others', (d: string) => withKey(d, key.privateKeyPath, 0o644), /has mode 0644; .*chmod 600/],
    ['not a key', (d: string) => withText(d, 'not a key at all\n'), /not a usable SSH private key/],
    ['a public key', (d: string) => withText(d, `${key.publicKey}\n`), /holds no private key|not a usable SSH private key/],
  ])('%s: migrate and container deploy/remove exit 2 naming privateKeyPath; nothing sent', async (_what, makePath, why) => {
    const d = scratchDir('fm-key-');
    const inv = writeJson(d, 'inv.json', loopbackInventory(server, makePath(d)));
    const msg = await refusedBeforeAnyNode(
      ['migrate', '--inventory', inv, '--strategy', 'tmpfs', '--from', 'edge-a', '--to', 'edge-b'],
      /nodes\[0\]\.privateKeyPath/,
    );
    expect(msg).toMatch(why);
    expect(msg).not.toContain('PRIVATE KEY');
    await refusedBeforeAnyNode(['container', 'deploy', '--inventory', inv, '--node', 'edge-a'], /privateKeyPath/);
    await refusedBeforeAnyNode(['container', 'remove', '--inventory', inv, '--node', 'edge-a'], /privateKeyPath/);
    // The key made loose on purpose goes back to 0600 before the scratch dir's secret scan.
    for (const f of readdirSync(d)) chmodSync(join(d, f), 0o600);
  });
});

function withText(d: string, text: string): string {
  const p = join(d, 'key');
  writeFileSync(p, text, { mode: 0o600 });
  chmodSync(p, 0o600);
  return p;
}
function withKey(d: string, from: string, mode: number): string {
  const p = join(d, 'key-copy');
  writeFileSync(p, readFileSync(from));
  chmodSync(p, mode);
  return p;
}

describe('defect 4: strategies looked up on a plain object', () => {
  it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'])('--strategy %s: exit 2 naming the allowed ones', async (s) => {
    await refusedBeforeAnyNode(
      ['migrate', '--inventory', inventoryFile(), '--strategy', s, '--from', 'edge-a', '--to', 'edge-b'],
      /--strategy: unknown value .*; allowed: tmpfs, diskless, shared/,
    );
  });
});

describe('defect 5: inputs without a size limit', () => {
  it('--config /dev/zero and --inventory /dev/zero: not regular files', async () => {
    expect((await cli(['testbed', 'status', '--config', '/dev/zero'])).err).toMatch(/--config: config file \/dev\/zero is not a regular file/);
    await refusedBeforeAnyNode(
      ['migrate', '--inventory', '/dev/zero', '--strategy', 'tmpfs', '--from', 'edge-a', '--to', 'edge-b'],
      /--inventory: inventory \/dev\/zero is not a regular file/,
    );
  });

  it('a config over 1 MiB is refused before it is parsed', async () => {
    const d = scratchDir('fm-big-');
    const cfg = join(d, 'Pulumi.big.yaml');
    writeFileSync(cfg, `config:\n  followme:topology:\n    pad: "${'x'.repeat(2 * 1024 * 1024)}"\n`);
    const r = await cli(['testbed', 'status', '--config', cfg]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--config: config file .* is \d+ bytes; at most 1048576 are read/);
  });

  it('a validation error cuts long values: a huge array is not echoed back', async () => {
    const d = scratchDir('fm-huge-');
    const cfg = join(d, 'Pulumi.huge.yaml');
    writeFileSync(cfg, stringify({ config: { 'followme:topology': { ...twoVm(), prefix: Array.from({ length: 5000 }, (_, i) => i) } } }));
    const r = await cli(['testbed', 'status', '--config', cfg]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/followme:topology\.prefix = \[0,1,2,/);
    expect(r.err.length).toBeLessThan(2000);
  });

  it('YAML aliases cannot blow a small file up', async () => {
    const d = scratchDir('fm-alias-');
    const cfg = join(d, 'Pulumi.alias.yaml');
    writeFileSync(cfg, 'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nconfig: {}\n');
    const r = await cli(['testbed', 'status', '--config', cfg]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--config: .* not valid YAML/);
  });
});

describe('defect 8: inventory values reaching configs', () => {
  const edge = (over: Record<string, unknown>) => ({
    nodes: loopbackInventory(server, key.privateKeyPath).nodes.map((n, i) => (i === 0 ? { ...n, ...over } : n)),
  });
  it.each([
    ['nodes[0].ip', () => edge({ ip: '999.1.1.1' })],
    ['nodes[0].ip', () => edge({ ip: '127.000.0.1' })],
    ['nodes[0].mac', () => edge({ mac: '52:54:00:00:00:01\nlxc.hook.pre-start = /bin/sh' })],
    ['nodes[0].mac', () => edge({ mac: '53:54:00:00:00:01' })],
    ['subnet', () => ({ subnet: 'ten dot something' })],
    ['nfs.export', () => ({ nfs: { server: '127.0.0.1', export: '/srv/followme *(rw)', mountPoint: '/mnt/followme' } })],
    ['containerAddresses[0].mac', () => ({ containerAddresses: [{ ip: '127.0.0.250', mac: 'aa:bb:cc:dd:ee:ff\nlxc.hook.start = x' }] })],
    ['containerAddresses[0].ip', () => ({ containerAddresses: [{ ip: '10.0.0.250', mac: '52:54:00:00:00:fa' }] })],
    ['nodes[0].hostPublicKey', () => edge({ hostPublicKey: 'ssh-ed25519 AAAA' })],
    ['nodes[0].libvirtUri', () => edge({ libvirtUri: 'qemu+ssh://x/system?command=/bin/sh' })],
  ])('%s: exit 2 naming it; nothing sent', async (keyName, over) => {
    const inv = writeJson(scratchDir('fm-inv8-'), 'inv.json', loopbackInventory(server, key.privateKeyPath, over() as never));
    const escaped = keyName.replace(/[.[\]]/g, (c) => `\\${c}`);
    await refusedBeforeAnyNode(['container', 'deploy', '--inventory', inv, '--node', 'edge-a'], new RegExp(`inv\\.json\\.${escaped}`));
  });
});

describe('defect 9: topology subnets', () => {
  it.each(['127.0.0.0/24', '224.0.0.0/24', '0.0.0.0/16', '169.254.0.0/16', '240.0.0.0/24', '010.77.10.0/24', '10.77.10.0/29'])(
    'refuses %s naming the key',
    (subnet) => {
      expect(() => validateTopology(twoVm({ subnet }), 'cfg')).toThrow(/cfg\.subnet/);
    },
  );

  it('takes a /28 (as the README says): nodes from .2, four container addresses at the top', () => {
    const t = validateTopology(twoVm({ subnet: '10.77.10.16/28' }), 'cfg');
    const p = buildPlan({ topology: t, image, keys: keysFor(t), hypervisors: { 'qemu:///system': 'qemu' } });
    expect(p.nodes.map((n) => n.ip)).toEqual(['10.77.10.18', '10.77.10.19']);
    expect(p.containerAddresses.map((a) => a.ip)).toEqual(['10.77.10.27', '10.77.10.28', '10.77.10.29', '10.77.10.30']);
  });
});
