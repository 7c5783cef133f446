// The Pulumi program's resource graph and outputs, under Pulumi's own mocks
// (no CLI, no engine, no libvirt).
import * as pulumi from '@pulumi/pulumi';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildPlan } from '../../provision/plan/plan.js';
import { validateTopology } from '../../provision/topology/validate.js';
import { validateInventory } from '../../common/inventory.js';
import { loadStack } from '../../provision/topology/stack-config.js';
import type { Topology } from '../../provision/topology/schema.js';
import { image, keysFor } from './fixtures.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair } from '../../provision/testbed/keys.js';
import { scanForKeyMaterial } from '../harness/secret-scan.js';
import { scratchDir } from '../scratch.js';

const realKey = generateKeyPair('controller');

interface Registered {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}
const registered: Registered[] = [];

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: (args) => args.inputs,
    },
    'followme',
    'two-vm',
    false,
  );
});

function outputValue<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply(resolve));
}

async function testbedFor(stack: string, topology: Topology) {
  const { Testbed } = await import('../../stacks/testbed.js');
  const plan = buildPlan({ topology, image, keys: keysFor(topology), hypervisors: { 'qemu:///system': 'qemu' } });
  const before = registered.length;
  const tb = new Testbed(topology.prefix, { plan, stack, readPrivateKey: () => realKey.private });
  const inventory = await outputValue(tb.inventory);
  return { plan, tb, inventory, mine: () => registered.slice(before) };
}

describe.each(['two-vm', 'three-vm-nfs', 'corridor'])('Pulumi stack %s', (stack) => {
  it('registers one libvirt resource per plan item, under the testbed component', async () => {
    const topology = loadStack(stack);
    const { plan, mine } = await testbedFor(stack, topology);
    const resources = mine();
    const byType = (t: string) => resources.filter((r) => r.type === `pulumi-nodejs:dynamic/followme:libvirt-${t}`);
    expect(resources.filter((r) => r.type === 'followme:testbed:Testbed')).toHaveLength(1);
    expect(byType('pool')).toHaveLength(plan.pools.length);
    expect(byType('network')).toHaveLength(1);
    expect(byType('volume')).toHaveLength(plan.volumes.length);
    expect(byType('domain').map((r) => (r.inputs['item'] as { node: string }).node)).toEqual(topology.nodes.map((n) => n.name));
    // Every libvirt object is named after the prefix.
    for (const r of resources.filter((x) => x.type.includes('followme:libvirt-'))) {
      expect((r.inputs['item'] as { name: string }).name.startsWith(`${topology.prefix}-`)).toBe(true);
      expect(r.inputs['prefix']).toBe(topology.prefix);
    }
  });

  it('exports the inventory (same schema as the CLI file) and the key only as a secret', async () => {
    const topology = loadStack(stack);
    const { tb, inventory, mine } = await testbedFor(stack, topology);
    expect(validateInventory(inventory, 'stack output')).toBe(inventory);
    expect(inventory.nodes.map((n) => n.role)).toEqual(topology.nodes.map((n) => n.role));
    // Every resource input and the inventory output, as Pulumi would store them, scanned for the key.
    const d = scratchDir('fm-pulumi-');
    writeFileSync(join(d, 'key'), realKey.private, { mode: 0o600 });
    writeFileSync(join(d, 'resources.json'), JSON.stringify(mine()));
    writeFileSync(join(d, 'inventory.json'), JSON.stringify(inventory));
    const scan = scanForKeyMaterial([d]);
    expect(scan.keyFiles).toHaveLength(1);
    expect(scan.findings).toEqual([]);
    expect(await outputValue(tb.privateKey)).toBe(realKey.private);
    expect(await pulumi.isSecret(tb.privateKey)).toBe(true);
    if (topology.nodes.some((n) => n.role === 'nfs')) expect(inventory.nfs?.server).toBe(inventory.nodes.find((n) => n.role === 'nfs')!.ip);
    else expect(inventory.nfs).toBeUndefined();
  });
});

describe('libvirt dynamic provider diff', () => {
  it('leaves equal items alone, updates reservations in place, replaces anything else', async () => {
    const { provider } = await import('../../stacks/libvirt-provider.js');
    const t = loadStack('two-vm');
    const grown = { ...t, nodes: [...t.nodes, { name: 'edge-c', role: 'edge' as const }] };
    const hv = { 'qemu:///system': 'qemu' as const };
    const before = buildPlan({ topology: t, image, keys: keysFor(t), hypervisors: hv });
    const after = buildPlan({ topology: grown, image, keys: keysFor(grown), hypervisors: hv });
    const diff = (o: unknown, n: unknown) => provider.diff!('id', { prefix: t.prefix, item: o }, { prefix: t.prefix, item: n });
    expect(await diff(before.networks[0], before.networks[0])).toEqual({ changes: false });
    expect(await diff(before.networks[0], after.networks[0])).toEqual({ changes: true, replaces: [] });
    const bigger = { ...before.domains[0]!, memoryMiB: 4096 };
    expect(await diff(before.domains[0], bigger)).toEqual({ changes: true, replaces: ['item'], deleteBeforeReplace: true });
    const otherSubnet = { ...before.networks[0]!, gateway: '10.99.0.1' };
    expect((await diff(before.networks[0], otherSubnet)).replaces).toEqual(['item']);
  });
});

describe('a Pulumi stack across two hosts', () => {
  it('has one provider per host, and every resource under its host with that provider', { timeout: 30_000 }, async () => {
    const REMOTE = 'qemu+ssh://root@192.168.50.2/system';
    const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEzmBYRHu0SGVGxhZNqvPnAnP+9Cq8uZjvZ0lH0GkTtU lab2';
    const t = loadStack('three-vm-nfs');
    const { libvirtUri: _, ...defaults } = t.defaults ?? {};
    const topology = validateTopology(
      {
        ...t,
        defaults,
        hosts: [
          { name: 'lab1', libvirtUri: 'qemu:///system', underlay: '192.168.50.1' },
          { name: 'lab2', libvirtUri: REMOTE, underlay: '192.168.50.2', sshHostKey: KEY },
        ],
        nodes: t.nodes.map((n) => ({ ...n, host: n.role === 'nfs' ? 'lab2' : n.name === 'edge-a' ? 'lab1' : 'lab2' })),
      },
      'cfg',
    );
    const { Testbed } = await import('../../stacks/testbed.js');
    const plan = buildPlan({ topology, image, keys: keysFor(topology), hypervisors: { 'qemu:///system': 'qemu', [REMOTE]: 'qemu' } });
    const before = registered.length;
    const tb = new Testbed(topology.prefix, { plan, stack: 'lab', readPrivateKey: () => realKey.private });
    await outputValue(tb.inventory);
    const ours = registered.slice(before);
    // Two host components, each with its own provider bound to its URI.
    const hostComponents = ours.filter((r) => r.type === 'followme:testbed:Host');
    expect(hostComponents.map((r) => r.inputs['uri'])).toEqual(['qemu:///system', REMOTE]);
    // Every resource under its host: what Pulumi stores as its provider is bound to its item's URI, and refuses another host's item.
    const { hostProvider } = await import('../../stacks/libvirt-provider.js');
    const items = [...plan.pools, ...plan.networks, ...plan.vxlans, ...plan.volumes, ...plan.domains];
    expect(tb.objects).toHaveLength(items.length);
    const mine = ours.filter((r) => r.type.startsWith('pulumi-nodejs:dynamic/followme:libvirt-'));
    expect(mine).toHaveLength(items.length);
    for (const r of mine) {
      const { uri } = r.inputs['item'] as { uri: string };
      // The serialized provider Pulumi keeps with the resource holds its host's URI, and only that one.
      const code = String(r.inputs['__provider']);
      expect(code, r.name).toContain(JSON.stringify(uri));
      expect(code, r.name).not.toContain(JSON.stringify(uri === REMOTE ? 'qemu:///system' : REMOTE));
    }
    for (const item of items) {
      const other = item.uri === REMOTE ? 'qemu:///system' : REMOTE;
      await expect(hostProvider(other).create!({ prefix: topology.prefix, item })).rejects.toThrow(`is on ${item.uri}, not on this provider's host ${other}`);
    }
    expect(plan.vxlans.map((v) => v.uri)).toEqual(['qemu:///system', REMOTE]);
    expect(plan.domains.map((d) => `${d.node}@${d.uri === REMOTE ? 'lab2' : 'lab1'}`)).toEqual(['edge-a@lab1', 'edge-b@lab2', 'nfs@lab2']);
  });
});
