import { describe, expect, it } from 'vitest';
import { buildPlan } from '../../provision/plan/plan.js';
import { domainXml, esc, networkXml, volumeXml } from '../../provision/libvirt/xml.js';
import { readNetworkAddresses, readNetworkBridge, readNetworkHosts, readOwnership, readPoolPath, readVolumeCapacity } from '../../provision/libvirt/inspect.js';
import { image, keysFor, twoVm } from './fixtures.js';

const t = twoVm();
const plan = buildPlan({ topology: t, image, keys: keysFor(t), hypervisors: { 'qemu:///system': 'qemu' } });

describe('libvirt XML', () => {
  it('escapes every markup character', () => {
    expect(esc(`a<b>&'"`)).toBe('a&#60;b&#62;&#38;&#39;&#34;');
  });

  it('makes an isolated network (no <forward>) with one reservation per node, marked as ours', () => {
    const xml = networkXml(plan.networks[0]!, 'fmtest');
    expect(xml).not.toContain('<forward');
    expect(xml).toContain('<bridge name="fm-fmtest"');
    expect(xml).toContain(`<host mac="${plan.nodes[0]!.mac}" name="edge-a" ip="10.77.10.10"/>`);
    expect(readOwnership(xml, 'network')).toEqual({ prefix: 'fmtest', kind: 'network', specHash: plan.networks[0]!.specHash });
    expect(readNetworkBridge(xml)).toBe('fm-fmtest');
    expect(readNetworkAddresses(xml)).toEqual([{ address: '10.77.10.1', prefixLength: 24 }]);
    expect(readNetworkHosts(xml)).toEqual(plan.networks[0]!.hosts);
  });

  it('makes a TCG domain booting the image kernel, with disk, seed, NIC, serial log and metadata', () => {
    const d = plan.domains[0]!;
    const xml = domainXml(d, 'fmtest');
    expect(xml).toMatch(/^<domain type="qemu">/);
    expect(xml).toContain('<model fallback="forbid">qemu64</model>');
    expect(xml).toContain(`<kernel>${d.boot!.kernel}</kernel>`);
    expect(xml).toContain('<source pool="fmtest-pool" volume="fmtest-edge-a.qcow2"/><target dev="vda" bus="virtio"/>');
    expect(xml).toContain('<source pool="fmtest-pool" volume="fmtest-edge-a-seed.iso"/><target dev="vdb" bus="virtio"/><readonly/>');
    expect(xml).toContain(`<mac address="${d.mac}"/><source network="fmtest-net"/>`);
    expect(xml).toContain('<log file="/var/log/libvirt/qemu/fmtest-edge-a-serial.log"');
    expect(readOwnership(xml, 'domain')).toEqual({ prefix: 'fmtest', kind: 'domain', node: 'edge-a', role: 'edge', specHash: d.specHash });
  });

  it('layers an overlay on its backing file with the planned capacity', () => {
    const v = plan.volumes.find((x) => x.source === 'overlay')!;
    const xml = volumeXml(v);
    expect(xml).toContain('<capacity unit="GiB">8</capacity>');
    expect(xml).toContain('<backingStore><path>/var/lib/libvirt/images/followme-fmtest/fmtest-base-abababababab.qcow2</path>');
  });

  it('reads back what virsh prints for pools and volumes', () => {
    expect(readPoolPath('<pool type="dir"><name>p</name><target><path>/x/followme-p</path></target></pool>')).toBe('/x/followme-p');
    expect(readVolumeCapacity("<volume><name>v</name><capacity unit='bytes'>8589934592</capacity></volume>")).toBe(8589934592);
    expect(readOwnership('<domain type="kvm"><name>x</name></domain>', 'domain')).toBeUndefined();
    // As virsh prints it: single quotes, one reservation, a prefix attribute.
    const live =
      "<network><name>n</name><ip address='10.1.0.1' prefix='16'><dhcp><host mac='52:54:00:AA:00:01' name='a' ip='10.1.0.10'/></dhcp></ip></network>";
    expect(readNetworkHosts(live)).toEqual([{ name: 'a', mac: '52:54:00:aa:00:01', ip: '10.1.0.10' }]);
    expect(readNetworkAddresses(live)).toEqual([{ address: '10.1.0.1', prefixLength: 16 }]);
  });
});
