// Teardown without an inventory, idempotent teardown, never touching foreign
// objects; and bad configuration refused before anything is created.
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { testbedStateDir } from '../../common/paths.js';
import { followme, writeStackConfig } from './cli.js';
import { objectsWithPrefix } from './libvirt-objects.js';
import { scratchDir } from '../scratch.js';

const URI = 'qemu:///system';
const virsh = (...args: string[]) => execa('virsh', ['-q', '-c', URI, ...args]);

function topology(prefix: string, subnet: string, extra: Record<string, unknown> = {}) {
  return {
    prefix,
    subnet,
    image: { kind: 'debian', suite: 'trixie' },
    defaults: { memoryMiB: 768 },
    nodes: [
      { name: 'edge-a', role: 'edge' },
      { name: 'edge-b', role: 'edge' },
    ],
    ...extra,
  };
}

/** An isolated libvirt network that followme did not make. */
async function defineForeignNetwork(name: string, bridge: string, address: string): Promise<void> {
  const xml = `<network><name>${name}</name><bridge name="${bridge}"/><ip address="${address}" netmask="255.255.255.0"/></network>`;
  const file = join(scratchDir('fm-foreign-'), 'net.xml');
  writeFileSync(file, xml);
  await virsh('net-define', file);
  await virsh('net-start', name);
}

async function removeNetwork(name: string): Promise<void> {
  await virsh('net-destroy', name).catch(() => undefined);
  await virsh('net-undefine', name).catch(() => undefined);
}

describe('testbed down', () => {
  afterAll(() => removeNetwork('fmlost-foreign'));

  it('removes everything found by prefix and metadata after the inventory and keys are lost, twice, and leaves foreign objects', async () => {
    const cfg = writeStackConfig(topology('fmlost', '10.77.60.0/24'));
    const upRun = await followme(['testbed', 'up', '--config', cfg, '--no-wait']);
    expect(upRun.exitCode, upRun.stderr).toBe(0);
    const created = await objectsWithPrefix('fmlost');
    expect(created).toEqual(expect.arrayContaining(['domain fmlost-edge-a', 'domain fmlost-edge-b', 'network fmlost-net', 'pool fmlost-pool']));
    expect(created.filter((o) => o.startsWith('volume '))).toHaveLength(7);

    // The same spec again: everything is adopted, nothing created.
    const again = await followme(['testbed', 'up', '--config', cfg, '--no-wait']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stderr).toContain('domains: fmlost-edge-a adopted, fmlost-edge-b adopted');
    expect(again.stderr).not.toMatch(/ created/);

    // `cycle` ends with a teardown, so it refuses a prefix that is in use.
    const cycle = await followme(['testbed', 'cycle', '--config', cfg]);
    expect(cycle.exitCode, cycle.stderr).toBe(2);
    expect(cycle.stderr).toContain('testbed "fmlost" already exists in libvirt');
    expect(await objectsWithPrefix('fmlost')).toEqual(created);

    // Another spec for an existing domain: refused, and the domain is left as it was.
    const t = topology('fmlost', '10.77.60.0/24');
    const bigger = writeStackConfig({ ...t, nodes: [t.nodes[0], { name: 'edge-b', role: 'edge', memoryMiB: 1024 }] });
    const conflict = await followme(['testbed', 'up', '--config', bigger, '--no-wait']);
    expect(conflict.exitCode, conflict.stderr).toBe(3);
    expect(conflict.stderr).toContain('domain fmlost-edge-b exists with another spec');
    expect((await virsh('dominfo', 'fmlost-edge-b')).stdout).toMatch(/Max memory:\s+786432 KiB/);

    // A node added: the network's DHCP reservations are updated in place.
    const grown = writeStackConfig({ ...t, nodes: [...t.nodes, { name: 'edge-c', role: 'edge' }] });
    const grow = await followme(['testbed', 'up', '--config', grown, '--no-wait']);
    expect(grow.exitCode, grow.stderr).toBe(0);
    expect(grow.stderr).toContain('networks: fmlost-net updated');
    expect((await virsh('net-dumpxml', 'fmlost-net')).stdout).toMatch(/<host mac='[^']+' name='edge-c' ip='10\.77\.60\.12'\/>/);
    expect(await objectsWithPrefix('fmlost')).toContain('domain fmlost-edge-c');

    // A network with our prefix in its name that followme did not make.
    await defineForeignNetwork('fmlost-foreign', 'fmforeign0', '10.77.61.1');

    const state = testbedStateDir('fmlost');
    expect(existsSync(`${state}/inventory.json`)).toBe(true);
    rmSync(state, { recursive: true, force: true });

    // The two-node config: down finds edge-c too, by prefix and ownership.
    const downRun = await followme(['testbed', 'down', '--config', cfg]);
    expect(downRun.exitCode, downRun.stderr).toBe(0);
    expect(await objectsWithPrefix('fmlost')).toEqual(['network fmlost-foreign']);

    const downAgain = await followme(['testbed', 'down', '--config', grown]);
    expect(downAgain.exitCode, downAgain.stderr).toBe(0);
    expect(downAgain.stderr).toContain('removed 0 domains, 0 volumes, 0 networks, 0 pools');
  });
});

describe('bad configuration', () => {
  afterAll(() => removeNetwork('fmdummy-net'));

  async function refused(args: string[], prefix: string, expected: RegExp[]): Promise<void> {
    const r = await followme(args);
    expect(r.exitCode, r.stderr).toBe(2);
    for (const e of expected) expect(r.stderr).toMatch(e);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace for user error
    expect(await objectsWithPrefix(prefix)).toEqual([]);
    expect(existsSync(testbedStateDir(prefix))).toBe(false);
  }

  it('refuses an unknown key, naming it', async () => {
    const cfg = writeStackConfig(topology('fmbad', '10.77.50.0/24', { defaults: { memoryMiB: 768, cpus: 2 } }));
    await refused(['testbed', 'up', '--config', cfg], 'fmbad', [/followme:topology\.defaults\.cpus/, /unknown key "cpus"/, /allowed keys here: .*vcpus/]);
  });

  it('refuses a wrong type, naming key and value', async () => {
    const t = topology('fmbad', '10.77.50.0/24');
    const cfg = writeStackConfig({ ...t, nodes: [{ name: 'edge-a', role: 'edge', vcpus: 'two' }, t.nodes[1]] });
    await refused(['testbed', 'up', '--config', cfg], 'fmbad', [/followme:topology\.nodes\[0\]\.vcpus = "two": must be integer/]);
  });

  it('refuses too little memory, naming the minimum', async () => {
    const t = topology('fmbad', '10.77.50.0/24');
    const cfg = writeStackConfig({ ...t, nodes: [t.nodes[0], { name: 'edge-b', role: 'edge', memoryMiB: 128 }] });
    await refused(['testbed', 'up', '--config', cfg], 'fmbad', [/followme:topology\.nodes\[1\]\.memoryMiB = 128: must be >= 512/]);
  });

  it('refuses a subnet that overlaps an existing libvirt network', async () => {
    await defineForeignNetwork('fmdummy-net', 'fmdummy0', '10.77.40.1');
    const cfg = writeStackConfig(topology('fmbad', '10.77.40.0/25'));
    await refused(['testbed', 'up', '--config', cfg], 'fmbad', [/followme:topology\.subnet = "10\.77\.40\.0\/25": overlaps libvirt network "fmdummy-net"/]);
  });

  it('refuses an unknown stack, listing the known ones', async () => {
    await refused(['testbed', 'up', '--stack', 'four-vm'], 'fmbad', [/unknown stack "four-vm"; known stacks: corridor, three-vm-nfs, two-vm/]);
  });

  it('refuses a config file that is not YAML or lacks the topology key', async () => {
    const cfg = writeStackConfig(undefined);
    await refused(['testbed', 'up', '--config', cfg], 'fmbad', [/missing key config\."followme:topology"/]);
  });
});
