// The container's network namespace, prepared on the restoring edge instead
// of dumped and restored by CRIU. CRIU's own way runs ip and iptables saves
// in the frozen container and their restores in the new one: about 0.7 s of
// the freeze and 1 s of the restore under TCG (docs/fast-migration.md). Here
// the dump leaves the namespace out (--external net[inode]:KEY), set-up
// builds it on the destination before the freeze (a veth whose container end
// has the container's MAC and address, its host end down and on no bridge),
// and LXC's restore joins it: CRIU finds it through --inherit-fd, given in a
// CRIU config file (CRIU_CONFIG_FILE) because lxc-checkpoint passes no extra
// options. CRIU then puts the host end on the bridge LXC names and brings it
// up, after every socket is back: until then nothing reaches the namespace.
import { createHash } from 'node:crypto';
import { FollowmeError } from '../../common/errors.js';
import { CONFIG_VALUE_PATTERNS } from '../../common/input/config-values.js';
import { LINK_NAME_PATTERN, NETNS_KEY } from '../criu/commands.js';
import { LXC_PATH } from './commands.js';
import { LAZY_RESTORE_CONFIG } from '../criu/lazy.js';

/** What a prepared namespace holds: one veth, as lxcConfig writes it. */
export interface PreparedNetwork {
  /** The named namespace on the edge (/run/netns/<netns>) until the container has joined it. */
  netns: string;
  /** The veth's host end: the name LXC gives CRIU (lxc.net.0.veth.pair), so lxc-info lists it. */
  hostLink: string;
  mac: string;
  /** Address with prefix length, e.g. 10.77.10.251/24. */
  address: string;
}

/**
 * The host end's name for one restore: LXC's monitor deletes its container's
 * host veth by name when the container stops, so a name used twice on one
 * edge (a rollback's restore beside the dumped copy's monitor) could lose the
 * new copy its link. One per migration and edge, short enough for the kernel.
 */
export function hostLinkFor(migrationId: string, node: string): string {
  return `fm${createHash('sha256').update(`${migrationId}\0${node}`).digest('hex').slice(0, 12)}`;
}

export const netnsOf = (container: string) => `followme-${container}`;

// The net keys lxcConfig writes; any other means a network this preparation would not reproduce. The MTU (a testbed
// across hosts) is the edge's bridge's, which the preparation gives both ends.
const PREPARED_KEYS = new Set(['type', 'link', 'flags', 'hwaddr', 'ipv4.address', 'veth.pair', 'mtu']);

/**
 * The prepared network of a container from its LXC config, or why it cannot
 * have one: exactly one veth, with a MAC and one IPv4 address. `hostLink`
 * names its host end (hostLinkFor).
 */
export function preparedNetworkOf(container: string, config: string, hostLink: string): PreparedNetwork {
  const net = new Map<string, string>();
  for (const line of config.split('\n')) {
    const m = /^\s*lxc\.net\.(\d+)\.([a-z0-9_.]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    if (m[1] !== '0') throw new FollowmeError(`container ${container} has a second network (lxc.net.${m[1]}): a prepared network holds one veth`);
    if (!PREPARED_KEYS.has(m[2]!))
      throw new FollowmeError(`container ${container}'s config sets lxc.net.0.${m[2]}: a prepared network reproduces only ${[...PREPARED_KEYS].join(', ')}`);
    net.set(m[2]!, m[3]!);
  }
  const need = (key: string, ok: (v: string) => boolean, what: string): string => {
    const v = net.get(key);
    if (v === undefined) throw new FollowmeError(`container ${container}'s config has no lxc.net.0.${key} (${what})`);
    if (!ok(v)) throw new FollowmeError(`container ${container}'s lxc.net.0.${key} is ${JSON.stringify(v.slice(0, 40))}, not ${what}`);
    return v;
  };
  need('type', (v) => v === 'veth', 'veth');
  // The same checks lxcConfig wrote them with.
  const { ipv4, mac, prefixLength } = CONFIG_VALUE_PATTERNS;
  const withPrefix = (v: string) => {
    const [ip, prefix, ...rest] = v.split('/');
    return rest.length === 0 && ipv4.test(ip ?? '') && prefixLength.test(prefix ?? '');
  };
  return {
    netns: netnsOf(container),
    hostLink: linkName(hostLink),
    mac: need('hwaddr', (v) => mac.test(v), 'a MAC address'),
    address: need('ipv4.address', withPrefix, 'an IPv4 address with its prefix length'),
  };
}

/**
 * Makes the namespace unless it is there. A host end of the same name is
 * waited for (10 s at most): the kernel tears down a killed container's
 * namespace, and with it the old veth, after the kill returns. Both ends take
 * the MTU of the edge's br0 (below 1500 when the testbed spans hosts).
 * Positional parameters: namespace, host end, MAC, address.
 */
const PREPARE =
  '[ -e "/run/netns/$1" ] || { ' +
  'i=0; while ip link show dev "$2" >/dev/null 2>&1; do [ "$i" -lt 100 ] || { echo "link $2 still exists" >&2; exit 4; }; sleep 0.1; i=$((i+1)); done; ' +
  'ip netns add "$1" || exit 5; ' +
  'm=$(cat /sys/class/net/br0/mtu 2>/dev/null) || m=1500; ' +
  '{ ip link add "$2" mtu "$m" type veth peer name eth0 mtu "$m" netns "$1" && printf "link set lo up\\nlink set eth0 address %s\\naddr add %s dev eth0\\nlink set eth0 up\\n" "$3" "$4" | ip -n "$1" -batch -; } || { ip netns delete "$1"; exit 6; }; }';

function linkName(name: string): string {
  if (!LINK_NAME_PATTERN.test(name)) throw new FollowmeError(`${JSON.stringify(name.slice(0, 20))} is not an interface name`);
  return name;
}

const configOf = (container: string) => `${LXC_PATH}/${container}/config`;

const args = (n: PreparedNetwork) => [n.netns, n.hostLink, n.mac, n.address];

export const preparedNetwork = {
  /** Builds the namespace (outside Ψ, before the freeze). */
  prepare: (n: PreparedNetwork) => ['sh', '-c', PREPARE, 'prepare-network', ...args(n)],
  /**
   * lxc-checkpoint -r joining the namespace (made first if it is not there:
   * a rollback's restore on the source). The host end's name goes into the
   * container's config as lxc.net.0.veth.pair (the last one counts), so LXC
   * gives CRIU that name; the CRIU config file goes into the images
   * directory; lxc-checkpoint's stdio goes to `log`, as with Edge.restore's
   * plain restore. Prints the container's state after it (lxc-info -s -H),
   * sparing the downtime a round trip to ask. Builtins but for the two.
   * With `lazy`, the config also asks for a lazy restore (criu/lazy.ts).
   */
  restore: (container: string, imagesDir: string, log: string, n: PreparedNetwork, opts: { lazy?: boolean } = {}) => [
    'sh',
    '-c',
    `${PREPARE}; ` +
      'printf "lxc.net.0.veth.pair = %s\\n" "$2" >>"$9" || exit 7; ' +
      `printf "inherit-fd fd[9]:%s\\n${opts.lazy ? `${LAZY_RESTORE_CONFIG}\\n` : ''}" "$7" >"$6/criu-network.conf" || exit 7; export CRIU_CONFIG_FILE="$6/criu-network.conf"; ` +
      'lxc-checkpoint -n "$5" -D "$6" -r 9<"/run/netns/$1" </dev/null >>"$8" 2>&1 || exit; exec lxc-info -n "$5" -s -H',
    'restore-prepared',
    ...args(n),
    container,
    imagesDir,
    NETNS_KEY,
    log,
    configOf(container),
  ],
  /**
   * After a restore (or instead of one): the namespace's name dropped (a
   * joined one lives as long as the container; an unjoined one goes, with
   * its veth) and the host end's name taken out of the config again, so a
   * later restore by LXC's own way picks a fresh one.
   */
  forget: (container: string) => [
    'sh',
    '-c',
    '{ [ ! -e "/run/netns/$1" ] || ip netns delete "$1"; } && { [ ! -e "$2" ] || sed -i "/^lxc\\.net\\.0\\.veth\\.pair[[:space:]]*=/d" "$2"; }',
    'forget-network',
    netnsOf(container),
    configOf(container),
  ],
} as const;
