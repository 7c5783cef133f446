// What goes on a node's seed image (a NoCloud "cidata" volume). Our Debian
// image reads the followme/ files with its own first-boot unit (cloud-init
// under TCG adds tens of seconds to every boot); a stock cloud image reads
// meta-data and user-data with cloud-init. Pure: secrets are referenced by path.
import type { KeyPairFiles } from '../testbed/keys.js';
import type { SeedFile } from './types.js';
import { configValue } from '../../common/input/config-values.js';

export const NFS_EXPORT = '/srv/followme';
export const NFS_MOUNT_POINT = '/mnt/followme';

export interface SeedInputs {
  prefix: string;
  node: string;
  role: 'edge' | 'nfs';
  hostKey: KeyPairFiles;
  clientPublicKey: string;
  hosts: { name: string; ip: string; role: 'edge' | 'nfs' }[];
  nfs?: { server: string; export: string; mountPoint: string } | undefined;
  bandwidthMbit: number;
  /** The NIC's MAC: br0 takes it, so the DHCP reservation for that MAC applies to br0. */
  mac: string;
  /** The uplink's and br0's MTU, when the testbed spans hosts (below the VXLAN's overhead). */
  mtu?: number;
}

/**
 * A systemd-networkd drop-in shaping the node's uplink with a token bucket:
 * the per-link bandwidth of the topology. Burst: 4 ms of traffic, at least 32 KiB.
 */
export function linkShapingDropIn(mbit: number): string {
  const burst = Math.max(32 * 1024, Math.round((mbit * 1e6) / 8 / 250));
  return `[TokenBucketFilter]\nParent=root\nRate=${mbit}M\nBurstBytes=${burst}\nLatencySec=50ms\n`;
}

const text = (path: string, content: string, mode = 0o644): SeedFile => ({ path, content, mode });

export function nodeSeedFiles(s: SeedInputs): SeedFile[] {
  const hostname = `${s.prefix}-${s.node}`;
  const hostsFile = `${s.hosts.map((h) => `${h.ip} ${h.name} ${s.prefix}-${h.name}`).join('\n')}\n`;
  const files: SeedFile[] = [
    text('meta-data', `instance-id: ${hostname}\nlocal-hostname: ${hostname}\n`),
    // For stock cloud images: cloud-init sets the hostname, installs the
    // controller's key for root and the pinned host key (our image ignores
    // user-data and reads followme/ below).
    {
      path: 'user-data',
      mode: 0o600,
      parts: [
        {
          content:
            `#cloud-config\nhostname: ${hostname}\ndisable_root: false\nssh_pwauth: false\n` +
            `ssh_authorized_keys:\n  - ${s.clientPublicKey}\n` +
            `ssh_deletekeys: true\nssh_genkeytypes: []\nssh_keys:\n  ed25519_private: |\n`,
        },
        { fromFile: s.hostKey.privateKeyPath, indent: 4 },
        { content: `  ed25519_public: ${s.hostKey.publicKey}\n` },
      ],
    },
    text('followme/hostname', `${hostname}\n`),
    text('followme/hosts', hostsFile),
    text('followme/role', `${s.role}\n`),
    text('followme/authorized_keys', `${s.clientPublicKey}\n`, 0o600),
    { path: 'followme/ssh_host_ed25519_key', fromFile: s.hostKey.privateKeyPath, mode: 0o600 },
    text('followme/ssh_host_ed25519_key.pub', `${s.hostKey.publicKey}\n`),
    text('followme/uplink.network.d/followme-rate.conf', linkShapingDropIn(s.bandwidthMbit)),
    // systemd 257 gives a bridge declared with MACAddress=none a random MAC, not its port's.
    text('followme/br0.netdev.d/followme-mac.conf', `[NetDev]\nMACAddress=${s.mac}\n`),
  ];
  if (s.mtu) {
    files.push(text('followme/br0.netdev.d/followme-mtu.conf', `[NetDev]\nMTUBytes=${s.mtu}\n`));
    files.push(text('followme/uplink.network.d/followme-mtu.conf', `[Link]\nMTUBytes=${s.mtu}\n`));
  }
  if (s.role === 'nfs') {
    // Only the edges may mount the share (root may write there: the containers' root file systems).
    const edges = s.hosts
      .filter((h) => h.role === 'edge')
      .map((h) => `${configValue('exports', 'edge address', 'ipv4', h.ip)}(rw,sync,no_subtree_check,no_root_squash)`);
    files.push(text('followme/exports', `${NFS_EXPORT} ${edges.join(' ')}\n`));
  } else if (s.nfs) {
    // automount: the edge may boot before the server; access retries the mount.
    files.push(
      text('followme/fstab', `${s.nfs.server}:${s.nfs.export} ${s.nfs.mountPoint} nfs4 rw,hard,_netdev,x-systemd.automount,x-systemd.mount-timeout=60s 0 0\n`),
    );
  }
  return files;
}
