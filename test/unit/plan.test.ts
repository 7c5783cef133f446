import { describe, expect, it } from 'vitest';
import { buildPlan, macFor } from '../../provision/plan/plan.js';
import { image, keysFor, threeVmNfs, twoVm } from './fixtures.js';
import { validateTopology } from '../../provision/topology/validate.js';
import { networkXml } from '../../provision/libvirt/xml.js';
import { vniFor } from '../../provision/plan/vxlan.js';
import { sshTargetOfUri, vxlanUpScript } from '../../provision/hosts/vxlan-port.js';

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

  it('boots the disk loader when the image has no kernel of its own (cloud images)', () => {
    const t = twoVm();
    const p = buildPlan({ topology: t, image: { key: image.key, rootfs: image.rootfs }, keys: keysFor(t), hypervisors: tcg });
    expect(p.domains.every((d) => d.boot === undefined)).toBe(true);
    expect(p.volumes.filter((v) => v.source === 'upload')).toHaveLength(1);
  });
});

describe('a plan across two hosts', () => {
  const REMOTE = 'qemu+ssh://root@192.168.50.2/system?keyfile=/root/.ssh/lab';
  const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEzmBYRHu0SGVGxhZNqvPnAnP+9Cq8uZjvZ0lH0GkTtU lab2';
  const acrossHosts = () => {
    const t = threeVmNfs();
    const hosts = [
      { name: 'lab1', libvirtUri: 'qemu:///system', underlay: '192.168.50.1' },
      { name: 'lab2', libvirtUri: REMOTE, underlay: '192.168.50.2', sshHostKey: KEY },
    ];
    // The NFS node and edge-b on the second host.
    return { ...t, hosts, nodes: t.nodes.map((n) => ({ ...n, host: n.name === 'edge-a' ? 'lab1' : 'lab2' })) };
  };
  const plan = () => {
    const t = validateTopology(acrossHosts(), 'cfg');
    return buildPlan({ topology: t, image, keys: keysFor(t), hypervisors: { 'qemu:///system': 'qemu', [REMOTE]: 'qemu' } });
  };

  it("makes each object on its node's host, the images on both, with the addresses of a one-host testbed", () => {
    const p = plan();
    expect(p.domains.map((d) => `${d.node}@${d.uri}`)).toEqual(['edge-a@qemu:///system', `edge-b@${REMOTE}`, `nfs@${REMOTE}`]);
    expect(p.pools.map((x) => x.uri)).toEqual(['qemu:///system', REMOTE]);
    for (const uri of ['qemu:///system', REMOTE])
      expect(p.volumes.filter((v) => v.uri === uri && v.source === 'upload').map((v) => v.name)).toEqual([
        `fmnfs-base-${image.key.slice(0, 12)}.qcow2`,
        `fmnfs-vmlinuz-${image.key.slice(0, 12)}`,
        `fmnfs-initrd-${image.key.slice(0, 12)}`,
      ]);
    const t = threeVmNfs();
    const oneHost = buildPlan({ topology: t, image, keys: keysFor(t), hypervisors: tcg });
    expect(p.nodes.map((n) => n.ip)).toEqual(oneHost.nodes.map((n) => n.ip));
    expect(p.nodes.map((n) => n.host)).toEqual(['lab1', 'lab2', 'lab2']);
  });

  it("serves the gateway and DHCP from the first host's network only, for every node; the other is a bridge", () => {
    const [first, second] = plan().networks;
    expect(first!.hosts.map((h) => h.name)).toEqual(['edge-a', 'edge-b', 'nfs']);
    expect(first!.bridgeOnly).toBeUndefined();
    expect(networkXml(first!, 'fmnfs')).toContain('<ip address="10.77.20.1"');
    expect(second).toMatchObject({ uri: REMOTE, hosts: [], bridgeOnly: true });
    expect(networkXml(second!, 'fmnfs')).not.toContain('<ip');
    for (const n of [first!, second!]) expect(networkXml(n, 'fmnfs')).toContain('<mtu size="1450"/>');
  });

  it('joins the bridges by one VXLAN port per host, each flooding to the other, with the VNI of the testbed', () => {
    const p = plan();
    expect(p.vxlans).toEqual([
      {
        kind: 'vxlan',
        uri: 'qemu:///system',
        host: 'lab1',
        name: 'vx-fmnfs',
        bridge: 'fm-fmnfs',
        vni: vniFor('fmnfs'),
        port: 4789,
        local: '192.168.50.1',
        remotes: ['192.168.50.2'],
        mtu: 1450,
      },
      {
        kind: 'vxlan',
        uri: REMOTE,
        host: 'lab2',
        hostKey: KEY,
        name: 'vx-fmnfs',
        bridge: 'fm-fmnfs',
        vni: vniFor('fmnfs'),
        port: 4789,
        local: '192.168.50.2',
        remotes: ['192.168.50.1'],
        mtu: 1450,
      },
    ]);
    expect(vniFor('fmnfs')).not.toBe(vniFor('fmtwo'));
    expect(vniFor('fmnfs')).toBeGreaterThan(0);
    expect(vniFor('fmnfs')).toBeLessThan(2 ** 24);
    // The guests' links take the VXLAN's MTU: nothing they send is too big for it.
    expect(p.mtu).toBe(1450);
    const seed = p.volumes.find((v) => v.source === 'seed' && v.name === 'fmnfs-edge-b-seed.iso');
    expect(seed?.source === 'seed' && seed.files.map((f) => ('content' in f ? `${f.path}: ${f.content}` : f.path))).toEqual(
      expect.arrayContaining([
        'followme/br0.netdev.d/followme-mtu.conf: [NetDev]\nMTUBytes=1450\n',
        'followme/uplink.network.d/followme-mtu.conf: [Link]\nMTUBytes=1450\n',
      ]),
    );
  });

  it('leaves a one-host testbed as it was: no VXLAN, no MTU, the same network spec', () => {
    const t = threeVmNfs();
    const p = buildPlan({ topology: t, image, keys: keysFor(t), hypervisors: tcg });
    expect(p.vxlans).toEqual([]);
    expect(p.mtu).toBeUndefined();
    expect(Object.keys(p.networks[0]!).sort()).toEqual(['bridge', 'gateway', 'hosts', 'kind', 'name', 'netmask', 'specHash', 'subnet', 'uri']);
  });

  it('the VXLAN port script takes every value as an argument, none in its text', () => {
    const [port] = plan().vxlans;
    const argv = vxlanUpScript(port!);
    expect(argv.slice(0, 2)).toEqual(['sh', '-c']);
    expect(argv.slice(3)).toEqual(['vxlan-up', 'vx-fmnfs', String(vniFor('fmnfs')), '4789', '192.168.50.1', 'fm-fmnfs', '1450', '192.168.50.2']);
    for (const value of ['vx-fmnfs', '192.168.50', 'fm-fmnfs']) expect(argv[2]).not.toContain(value);
    expect(sshTargetOfUri(REMOTE, KEY, 'lab2')).toEqual({
      node: 'lab2',
      host: '192.168.50.2',
      user: 'root',
      privateKeyPath: '/root/.ssh/lab',
      hostPublicKey: KEY,
    });
  });
});
