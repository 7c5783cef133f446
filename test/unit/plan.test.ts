import { describe, expect, it } from 'vitest';
import { buildPlan, macFor } from '../../provision/plan/plan.js';
import { image, keysFor, threeVmNfs, twoVm } from './fixtures.js';

const kvm = { 'qemu:///system': 'kvm' as const };
const tcg = { 'qemu:///system': 'qemu' as const };

describe('plan', () => {
  it('is deterministic: same input, same plan', () => {
    const t = twoVm();
    expect(buildPlan({ topology: t, image, keys: keysFor(t), hypervisors: tcg })).toEqual(
      buildPlan({ topology: t, image, keys: keysFor(t), hypervisors: tcg }),
    );
  });

  it('names every object after the prefix and reserves an address per MAC', () => {
    const t = twoVm();
    const p = buildPlan({ topology: t, image, keys: keysFor(t), hypervisors: tcg });
    const all = [...p.pools, ...p.networks, ...p.volumes, ...p.domains].map((i) => i.name);
    expect(all.every((n) => n.startsWith('fmtest-'))).toBe(true);
    expect(p.networks).toHaveLength(1);
    expect(p.networks[0]!.hosts).toEqual([
      { name: 'edge-a', mac: macFor('fmtest', 'edge-a'), ip: '10.77.10.10' },
      { name: 'edge-b', mac: macFor('fmtest', 'edge-b'), ip: '10.77.10.11' },
    ]);
    expect(p.nodes.map((n) => n.ip)).toEqual(['10.77.10.10', '10.77.10.11']);
    expect(p.nfs).toBeUndefined();
    // Containers get the top of the subnet, never handed out by DHCP, each with a fixed MAC.
    expect(p.containerAddresses.map((c) => c.ip)).toEqual(['10.77.10.251', '10.77.10.252', '10.77.10.253', '10.77.10.254']);
    expect(new Set(p.containerAddresses.map((c) => c.mac)).size).toBe(4);
  });

  it('gives every domain the same CPU model, kvm or TCG by what the host offers', () => {
    const t = twoVm();
    const onTcg = buildPlan({ topology: t, image, keys: keysFor(t), hypervisors: tcg });
    const onKvm = buildPlan({ topology: t, image, keys: keysFor(t), hypervisors: kvm });
    expect(new Set(onTcg.domains.map((d) => `${d.hypervisor}/${d.cpuModel}`))).toEqual(new Set(['qemu/qemu64']));
    expect(new Set(onKvm.domains.map((d) => d.hypervisor))).toEqual(new Set(['kvm']));
    expect(onKvm.domains[0]!.specHash).not.toBe(onTcg.domains[0]!.specHash);
  });

  it('layers each disk on the shared base image and gives each node a seed', () => {
    const t = twoVm();
    const p = buildPlan({ topology: t, image, keys: keysFor(t), hypervisors: tcg });
    const base = p.volumes.find((v) => v.source === 'upload' && v.format === 'qcow2')!;
    const overlays = p.volumes.filter((v) => v.source === 'overlay');
    expect(overlays).toHaveLength(2);
    for (const o of overlays) expect(o.source === 'overlay' && o.backingPath).toBe(base.path);
    const seeds = p.volumes.filter((v) => v.source === 'seed');
    expect(seeds.map((s) => s.name)).toEqual(['fmtest-edge-a-seed.iso', 'fmtest-edge-b-seed.iso']);
    const files = seeds[0]!.source === 'seed' ? seeds[0]!.files : [];
    const hostKey = files.find((f) => f.path === 'followme/ssh_host_ed25519_key')!;
    expect('fromFile' in hostKey && hostKey.fromFile).toBe('/state/keys/edge-a_key'); // secrets stay in files
    expect(files.find((f) => f.path === 'followme/fstab')).toBeUndefined();
  });

  it('on three-vm-nfs exports from the NFS node and mounts on every edge', () => {
    const t = threeVmNfs();
    const p = buildPlan({ topology: t, image, keys: keysFor(t), hypervisors: tcg });
    expect(p.nfs).toEqual({ server: '10.77.20.12', export: '/srv/followme', mountPoint: '/mnt/followme' });
    const seedOf = (node: string) => {
      const v = p.volumes.find((x) => x.name === `fmnfs-${node}-seed.iso`)!;
      return v.source === 'seed' ? v.files : [];
    };
    const exportsFile = seedOf('nfs').find((f) => f.path === 'followme/exports');
    // Only the two edges may mount the share; not the subnet, not the NFS node itself.
    const opts = '(rw,sync,no_subtree_check,no_root_squash)';
    expect(exportsFile && 'content' in exportsFile && exportsFile.content).toBe(`/srv/followme 10.77.20.10${opts} 10.77.20.11${opts}\n`);
    for (const e of ['edge-a', 'edge-b']) {
      const fstab = seedOf(e).find((f) => f.path === 'followme/fstab');
      expect(fstab && 'content' in fstab && fstab.content).toMatch(/^10\.77\.20\.12:\/srv\/followme \/mnt\/followme nfs4 /);
    }
    expect(p.domains.find((d) => d.node === 'nfs')!.memoryMiB).toBe(1024);
  });

  it('puts nodes on another libvirt host into their own pool and network there', () => {
    const t = twoVm({
      nodes: [
        { name: 'edge-a', role: 'edge' },
        { name: 'edge-b', role: 'edge', libvirtUri: 'qemu+ssh://lab2/system' },
      ],
    });
    const p = buildPlan({ topology: t, image, keys: keysFor(t), hypervisors: { ...tcg, 'qemu+ssh://lab2/system': 'qemu' } });
    expect(p.pools.map((x) => x.uri)).toEqual(['qemu:///system', 'qemu+ssh://lab2/system']);
    expect(p.networks.map((n) => n.hosts.map((h) => h.name))).toEqual([['edge-a'], ['edge-b']]);
    expect(p.domains.find((d) => d.node === 'edge-b')!.uri).toBe('qemu+ssh://lab2/system');
    expect(p.volumes.filter((v) => v.uri === 'qemu+ssh://lab2/system' && v.source === 'upload')).toHaveLength(3);
  });

  it('boots the disk loader when the image has no kernel of its own (cloud images)', () => {
    const t = twoVm();
    const p = buildPlan({ topology: t, image: { key: image.key, rootfs: image.rootfs }, keys: keysFor(t), hypervisors: tcg });
    expect(p.domains.every((d) => d.boot === undefined)).toBe(true);
    expect(p.volumes.filter((v) => v.source === 'upload')).toHaveLength(1);
  });
});
