// libvirt XML for plan items. Pure string builders; every value passes
// through esc(). Our objects carry a <metadata> element in our namespace.
import type { DomainItem, NetworkItem, Ownership, PoolItem, VolumeItem } from '../plan/types.js';

export const FOLLOWME_NS = 'https://followme.dev/xmlns/libvirt/1';

export function esc(v: string | number): string {
  return String(v).replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function metadataXml(o: Ownership): string {
  const opt = (k: string, v?: string) => (v === undefined ? '' : `<fm:${k}>${esc(v)}</fm:${k}>`);
  return (
    `<metadata><fm:followme xmlns:fm="${FOLLOWME_NS}">` +
    `<fm:prefix>${esc(o.prefix)}</fm:prefix><fm:kind>${o.kind}</fm:kind>${opt('node', o.node)}${opt('role', o.role)}` +
    `<fm:spec-hash>${esc(o.specHash)}</fm:spec-hash></fm:followme></metadata>`
  );
}

export function poolXml(p: PoolItem): string {
  return `<pool type="dir"><name>${esc(p.name)}</name><target><path>${esc(p.path)}</path><permissions><mode>0711</mode></permissions></target></pool>`;
}

/** An isolated network: no <forward>, so no NAT and no route out. */
export function networkXml(n: NetworkItem, prefix: string): string {
  const hosts = n.hosts.map((h) => `<host mac="${esc(h.mac)}" name="${esc(h.name)}" ip="${esc(h.ip)}"/>`).join('');
  return (
    `<network>` +
    `<name>${esc(n.name)}</name>` +
    metadataXml({ prefix, kind: 'network', specHash: n.specHash }) +
    `<bridge name="${esc(n.bridge)}" stp="off" delay="0"/>` +
    (n.mtu ? `<mtu size="${esc(n.mtu)}"/>` : '') +
    // A host other than the first carries the segment only: one gateway and one DHCP server on it, the first host's.
    (n.bridgeOnly ? '' : `<ip address="${esc(n.gateway)}" netmask="${esc(n.netmask)}"><dhcp>${hosts}</dhcp></ip>`) +
    `</network>`
  );
}

export function volumeXml(v: VolumeItem, sizeBytes?: number): string {
  if (v.source === 'overlay') {
    return (
      `<volume><name>${esc(v.name)}</name><capacity unit="GiB">${v.capacityGiB}</capacity>` +
      `<target><format type="qcow2"/></target>` +
      `<backingStore><path>${esc(v.backingPath)}</path><format type="qcow2"/></backingStore></volume>`
    );
  }
  const format = v.source === 'upload' ? v.format : 'raw';
  return `<volume><name>${esc(v.name)}</name><capacity unit="bytes">${sizeBytes ?? 0}</capacity>` + `<target><format type="${format}"/></target></volume>`;
}

export function domainXml(d: DomainItem, prefix: string): string {
  const cpu =
    d.cpuModel === 'host-model' || d.cpuModel === 'host-passthrough'
      ? `<cpu mode="${esc(d.cpuModel)}"/>`
      : `<cpu mode="custom" match="exact"><model fallback="forbid">${esc(d.cpuModel)}</model></cpu>`;
  return (
    `<domain type="${d.hypervisor}">` +
    `<name>${esc(d.name)}</name>` +
    metadataXml({ prefix, kind: 'domain', node: d.node, role: d.role, specHash: d.specHash }) +
    `<memory unit="MiB">${d.memoryMiB}</memory><vcpu>${d.vcpus}</vcpu>` +
    `<os><type arch="x86_64" machine="pc">hvm</type>` +
    (d.boot ? `<kernel>${esc(d.boot.kernel)}</kernel><initrd>${esc(d.boot.initrd)}</initrd><cmdline>${esc(d.boot.cmdline)}</cmdline>` : `<boot dev="hd"/>`) +
    `</os>` +
    `<features><acpi/></features>${cpu}` +
    `<on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>` +
    `<devices>` +
    `<disk type="volume" device="disk"><driver name="qemu" type="qcow2"/>` +
    `<source pool="${esc(d.disk.pool)}" volume="${esc(d.disk.volume)}"/><target dev="vda" bus="virtio"/></disk>` +
    `<disk type="volume" device="disk"><driver name="qemu" type="raw"/>` +
    `<source pool="${esc(d.seed.pool)}" volume="${esc(d.seed.volume)}"/><target dev="vdb" bus="virtio"/><readonly/></disk>` +
    // No libvirt <bandwidth>: it needs sch_sfq on the host, which lab kernels
    // may lack; the link rate is shaped inside the guest (seed-files.ts).
    `<interface type="network"><mac address="${esc(d.mac)}"/><source network="${esc(d.network)}"/><model type="virtio"/></interface>` +
    `<serial type="pty"><log file="${esc(d.consoleLog)}" append="off"/><target port="0"/></serial>` +
    `<console type="pty"><target type="serial" port="0"/></console>` +
    `<rng model="virtio"><backend model="random">/dev/urandom</backend></rng>` +
    `<memballoon model="none"/>` +
    `</devices></domain>`
  );
}
