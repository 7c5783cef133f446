import { describe, expect, it } from 'vitest';
import { validateTopology } from '../../provision/topology/validate.js';
import { ConfigError } from '../../common/errors.js';
import { twoVm } from './fixtures.js';
import { hostMemoryProblem } from '../../provision/testbed/preflight.js';
import { loadStack } from '../../provision/topology/stack-config.js';

function refusal(data: unknown): ConfigError {
  try {
    validateTopology(data, 'cfg');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected the topology to be refused');
}

describe('topology validation', () => {
  it('accepts both shipped shapes', () => {
    expect(validateTopology(twoVm(), 'cfg').nodes).toHaveLength(2);
  });

  it('refuses an unknown key, naming it and the allowed keys', () => {
    const e = refusal({ ...twoVm(), defaults: { memoryMiB: 2048, cpus: 2 } });
    expect(e.key).toBe('cfg.defaults.cpus');
    expect(e.message).toContain('unknown key "cpus"');
    expect(e.message).toContain('vcpus');
  });

  it('refuses a wrong type, naming key and value', () => {
    const t = twoVm();
    const e = refusal({ ...t, nodes: [{ ...t.nodes[0], vcpus: 'two' }, t.nodes[1]] });
    expect(e.key).toBe('cfg.nodes[0].vcpus');
    expect(e.message).toContain('"two"');
    expect(e.message).toContain('must be integer');
  });

  it('refuses too little memory with the minimum', () => {
    const e = refusal({ ...twoVm(), defaults: { memoryMiB: 128 } });
    expect(e.key).toBe('cfg.defaults.memoryMiB');
    expect(e.message).toMatch(/128.*>= 512/);
  });

  it('refuses a subnet with host bits, or too small for the nodes', () => {
    expect(refusal(twoVm({ subnet: '10.77.10.7/24' })).key).toBe('cfg.subnet');
    const ten = Array.from({ length: 10 }, (_, i) => ({ name: `e${i}`, role: 'edge' as const }));
    expect(refusal(twoVm({ subnet: '10.77.10.0/28', nodes: ten })).message).toContain('room for 9 nodes');
    expect(refusal(twoVm({ subnet: '10.0.0.0/8' })).message).toContain('prefix length /8 is outside /16–/28');
  });

  it('refuses duplicate names, two NFS servers, no edge, a bad prefix or image kind', () => {
    expect(
      refusal(
        twoVm({
          nodes: [
            { name: 'a', role: 'edge' },
            { name: 'a', role: 'edge' },
          ],
        }),
      ).key,
    ).toBe('cfg.nodes[1].name');
    expect(
      refusal(
        twoVm({
          nodes: [
            { name: 'a', role: 'edge' },
            { name: 'n1', role: 'nfs' },
            { name: 'n2', role: 'nfs' },
          ],
        }),
      ).key,
    ).toBe('cfg.nodes');
    expect(refusal(twoVm({ nodes: [{ name: 'n1', role: 'nfs' }] })).message).toContain('role "edge"');
    expect(refusal(twoVm({ prefix: 'Bad_Prefix' })).key).toBe('cfg.prefix');
    const e = refusal({ ...twoVm(), image: { kind: 'ubuntu' } });
    expect(e.key).toMatch(/^cfg\.image/);
  });

  it('refuses a libvirt URI that is not a QEMU one', () => {
    const e = refusal({ ...twoVm(), defaults: { libvirtUri: 'xen:///system' } });
    expect(e.key).toBe('cfg.defaults.libvirtUri');
  });
});

describe('a road of edges in a topology', () => {
  const road = () => {
    const t = twoVm();
    return {
      ...t,
      nodes: [
        { ...t.nodes[0]!, position: { x: 0, y: 0 }, radiusM: 600 },
        { ...t.nodes[1]!, position: { x: 1000, y: 0 }, radiusM: 600 },
        { ...t.nodes[1]!, name: 'edge-c', position: { x: 2000, y: 0 }, radiusM: 600 },
      ],
    };
  };

  it('accepts edges whose cells cover the road', () => {
    expect(validateTopology(road(), 'cfg').nodes[1]!.position).toEqual({ x: 1000, y: 0 });
  });

  it('says where the cells leave the road uncovered', () => {
    const t = road();
    const e = refusal({ ...t, nodes: [t.nodes[0], { ...t.nodes[1]!, radiusM: 300 }, t.nodes[2]] });
    expect(e.key).toBe('cfg.nodes');
    expect(e.message).toContain('no cell covers the road from 600 m to 700 m along it (between edge-a and edge-b)');
  });

  it('needs a place for every edge once one has one, and none for the NFS node', () => {
    const t = road();
    expect(refusal({ ...t, nodes: [t.nodes[0], { ...t.nodes[1]!, position: undefined }, t.nodes[2]] }).message).toMatch(
      /nodes\[1\] \(edge-b\): every edge needs a position and a radiusM/,
    );
    const nfs = { name: 'nfs', role: 'nfs', position: { x: 5, y: 5 } };
    expect(refusal({ ...t, nodes: [...t.nodes, nfs] }).message).toMatch(/nodes\[3\] \(nfs\): the NFS node has no cell/);
    expect(refusal({ ...t, nodes: [t.nodes[0], { ...t.nodes[1]!, radiusM: -5 }, t.nodes[2]] }).key).toBe('cfg.nodes[1].radiusM');
  });

  it('needs at least three edges on a road (two borders)', () => {
    const t = road();
    const e = refusal({ ...t, nodes: [t.nodes[0], t.nodes[1]] });
    expect(e.key).toBe('cfg.nodes');
    expect(e.message).toMatch(/a road needs at least three edges; it has 2/);
  });
});

describe("a testbed's memory against the machine's", () => {
  const corridor = () => loadStack('corridor');
  it('lets the corridor up on a machine with room for it', () => {
    // 3 edges × 1536 MiB + the NFS node's 1024 MiB, and the host's 1024.
    expect(hostMemoryProblem(corridor(), 6656, 'cfg')).toBeUndefined();
  });

  it('refuses more edges than fit, saying how many do', () => {
    const t = corridor();
    const edge = t.nodes[2]!;
    const many = {
      ...t,
      nodes: [...t.nodes, ...Array.from({ length: 9 }, (_, i) => ({ ...edge, name: `edge-x${i}`, position: { x: 3000 + i * 1000, y: 0 } }))],
    };
    expect(hostMemoryProblem(many, 16_000, 'cfg')).toBe(
      'cfg.nodes: the guests ask for 19456 MiB and this machine has 16000 MiB (1024 kept for the host): at most 9 edges of 1536 MiB fit beside the other nodes; remove edges or lower memoryMiB',
    );
  });
});

describe('a topology on several hosts', () => {
  const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEzmBYRHu0SGVGxhZNqvPnAnP+9Cq8uZjvZ0lH0GkTtU host2';
  const hosts = () => [
    { name: 'lab1', libvirtUri: 'qemu:///system', underlay: '192.168.50.1' },
    { name: 'lab2', libvirtUri: 'qemu+ssh://root@192.168.50.2/system?keyfile=/root/.ssh/id_ed25519', underlay: '192.168.50.2', sshHostKey: KEY },
  ];
  const onHosts = (over: Record<string, unknown> = {}) => {
    const t = twoVm();
    return {
      ...t,
      hosts: hosts(),
      nodes: [
        { ...t.nodes[0], host: 'lab1' },
        { ...t.nodes[1], host: 'lab2' },
      ],
      ...over,
    };
  };
  const problemsOf = (data: unknown) => refusal(data).message.split('\n').slice(1);

  it("accepts edges on two hosts, each node placed by its host's URI", async () => {
    const t = validateTopology(onHosts(), 'cfg');
    const { resolveNode } = await import('../../provision/topology/schema.js');
    expect(t.nodes.map((n) => resolveNode(t, n).libvirtUri)).toEqual(['qemu:///system', hosts()[1]!.libvirtUri]);
  });

  it('refuses a node on an unknown host, and one on no host, naming the known ones', () => {
    const t = twoVm();
    const problems = problemsOf(onHosts({ nodes: [{ ...t.nodes[0], host: 'lab3' }, t.nodes[1]] }));
    expect(problems).toEqual([
      expect.stringContaining('cfg.nodes[0].host = "lab3" (edge-a): not a host; known: lab1, lab2'),
      expect.stringContaining('cfg.nodes[1].host (edge-b): missing; with hosts, every node names its host: one of lab1, lab2'),
    ]);
  });

  it('refuses nodes on two libvirt URIs without hosts: the VXLAN between them needs their underlay addresses', () => {
    const t = twoVm();
    const e = refusal({ ...t, nodes: [t.nodes[0], { ...t.nodes[1], libvirtUri: 'qemu+ssh://lab2/system' }] });
    expect(e.key).toBe('cfg.nodes[1].libvirtUri');
    expect(e.message).toContain('(edge-b): on another libvirt host than edge-a; a testbed on several hosts names them in cfg.hosts');
  });

  it('refuses a host name given without hosts', () => {
    const t = twoVm();
    expect(refusal({ ...t, nodes: [{ ...t.nodes[0], host: 'lab1' }, t.nodes[1]] }).key).toBe('cfg.nodes[0].host');
  });

  it('refuses a URI outside the allow-list, a remote one not over SSH, and a remote one without a pinned host key', () => {
    const [h1, h2] = hosts();
    expect(refusal(onHosts({ hosts: [h1, { ...h2, libvirtUri: 'qemu+ssh://lab2/system?command=/bin/evil' }] })).message).toContain(
      'cfg.hosts[1].libvirtUri = "qemu+ssh://lab2/system?command=/bin/evil": parameter "command" is not allowed',
    );
    expect(refusal(onHosts({ hosts: [h1, { ...h2, libvirtUri: 'qemu+tcp://lab2/system' }] })).message).toContain(
      'cfg.hosts[1].libvirtUri = "qemu+tcp://lab2/system": a remote host is reached over SSH',
    );
    const { sshHostKey: _, ...unpinned } = h2!;
    const e = refusal(onHosts({ hosts: [h1, unpinned] }));
    expect(e.key).toBe('cfg.hosts[1].sshHostKey');
    expect(e.message).toContain("a remote host's SSH host key must be pinned");
  });

  it('refuses two hosts with one underlay address, one name or one URI, and an underlay inside the testbed subnet', () => {
    const [h1, h2] = hosts();
    expect(problemsOf(onHosts({ hosts: [h1, { ...h2, underlay: '192.168.50.1' }] }))).toEqual([
      expect.stringContaining('cfg.hosts[1].underlay = 192.168.50.1: another host has this underlay address'),
    ]);
    expect(problemsOf(onHosts({ hosts: [h1, { ...h2, name: 'lab1' }] }))[0]).toContain('cfg.hosts[1].name = "lab1": host names must be unique');
    expect(problemsOf(onHosts({ hosts: [h1, { ...h2, libvirtUri: 'qemu:///system' }] }))).toEqual([
      expect.stringContaining('cfg.hosts[1].libvirtUri = "qemu:///system": another host has this URI; each host is one libvirtd'),
    ]);
    expect(refusal(onHosts({ hosts: [h1, { ...h2, underlay: '10.77.10.200' }] })).message).toContain(
      "cfg.hosts[1].underlay = 10.77.10.200: inside the testbed's subnet 10.77.10.0/24",
    );
  });

  it('refuses a libvirtUri beside hosts, on a node or in defaults', () => {
    const t = onHosts();
    const problems = problemsOf({ ...t, defaults: { libvirtUri: 'qemu:///system' }, nodes: [{ ...t.nodes[0], libvirtUri: 'qemu:///system' }, t.nodes[1]] });
    expect(problems).toEqual([
      expect.stringContaining('cfg.defaults.libvirtUri: with hosts'),
      expect.stringContaining('cfg.nodes[0].libvirtUri (edge-a): with hosts'),
    ]);
  });
});
