// The seam to LXC's tools: argv builders (no I/O) and parsers of what they print.
import { configValue } from '../../common/input/config-values.js';
import { CONTAINER_INIT } from '../../common/guest.js';

export const LXC_PATH = '/var/lib/lxc';

export const lxc = {
  /** Start in the background; returns once the container is running. */
  start: (name: string) => ['lxc-start', '-n', name, '-d'],
  /** State only, without labels: RUNNING, STOPPED, FROZEN, … */
  state: (name: string) => ['lxc-info', '-n', name, '-s', '-H'],
  pid: (name: string) => ['lxc-info', '-n', name, '-p', '-H'],
  /** Ask init to stop, then kill after `timeoutS`. */
  stop: (name: string, timeoutS = 10) => ['lxc-stop', '-n', name, '-t', String(timeoutS)],
  kill: (name: string) => ['lxc-stop', '-n', name, '-k'],
  destroy: (name: string) => ['lxc-destroy', '-n', name],
  list: () => ['lxc-ls', '-1'],
  /**
   * Restore from `dir`. lxc-checkpoint -r keeps the caller's stdio open for as
   * long as the container lives, so the edge runs it in its own session (Edge.restore).
   */
  restore: (name: string, dir: string) => ['lxc-checkpoint', '-n', name, '-D', dir, '-r'],
  /**
   * Brings up the host side of the container's veths that are down, printing
   * each: the final dump's post-dump hook takes them down just before CRIU
   * kills the container, so a copy that lived on (CRIU died after the hook)
   * would be resumed cut off.
   */
  linksUp: (name: string) => [
    'sh',
    '-c',
    'for l in $(lxc-info -n "$1" | sed -n "s/^Link:[[:space:]]*//p"); do [ -n "$(ip -o link show dev "$l" type veth 2>/dev/null)" ] || continue; [ -n "$(ip -o link show dev "$l" up)" ] || { ip link set dev "$l" up && echo "$l"; }; done; exit 0',
    'links-up',
    name,
  ],
  /** Kills a restore of `name` from under `dir` (pkill reads a regular expression: both are matched literally). */
  killRestore: (name: string, dir: string) => ['pkill', '-9', '-f', `lxc-checkpoint -n ${literalPattern(name)} -D ${literalPattern(dir)}/`],
} as const;

/** `text` as an extended regular expression that matches it and nothing else. */
export function literalPattern(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export type ContainerState = 'RUNNING' | 'STOPPED' | 'STARTING' | 'STOPPING' | 'ABORTING' | 'FREEZING' | 'FROZEN' | 'THAWED';

export function parseState(stdout: string): ContainerState | undefined {
  const s = stdout.trim().split('\n')[0]?.trim();
  const known: ContainerState[] = ['RUNNING', 'STOPPED', 'STARTING', 'STOPPING', 'ABORTING', 'FREEZING', 'FROZEN', 'THAWED'];
  return known.find((k) => k === s);
}

export interface ContainerSpec {
  name: string;
  rootfs: string;
  ip: string;
  prefixLength: number;
  mac: string;
  /** The edge's bridge holding its NIC: the container joins the testbed network through it. */
  bridge: string;
  /** The testbed's MTU when it spans hosts (the inventory's); absent: the default. */
  mtu?: number;
}

/**
 * The LXC config of a migratable container: a veth on the edge's bridge with
 * a static address and MAC (so it answers at one address on any edge), no
 * console or ttys (pseudo-terminals complicate checkpointing), unconfined
 * (the guests have no AppArmor user space).
 */
export function lxcConfig(c: ContainerSpec): string {
  // LXC configs have no quoting: every value is checked before it is written.
  const v = (what: string, kind: Parameters<typeof configValue>[2], value: string | number) => configValue('LXC config', what, kind, value);
  return [
    `# followme container ${v('name', 'token', c.name)}`,
    'lxc.include = /usr/share/lxc/config/common.conf',
    'lxc.arch = linux64',
    `lxc.uts.name = ${c.name}`,
    `lxc.rootfs.path = dir:${v('rootfs', 'path', c.rootfs)}`,
    `lxc.init.cmd = ${CONTAINER_INIT}`,
    'lxc.apparmor.profile = unconfined',
    'lxc.mount.auto = proc:mixed sys:mixed cgroup:mixed',
    'lxc.autodev = 1',
    // /run in memory, as on any systemd host: the counter's writes never reach
    // the rootfs (with the shared strategy they would be NFS writes 20 times a
    // second, and a task waiting on NFS can keep the freezer from finishing).
    'lxc.mount.entry = tmpfs run tmpfs rw,nosuid,nodev,mode=0755,size=16m 0 0',
    'lxc.tty.max = 0',
    'lxc.pty.max = 0',
    'lxc.console.path = none',
    'lxc.net.0.type = veth',
    `lxc.net.0.link = ${v('bridge', 'token', c.bridge)}`,
    'lxc.net.0.flags = up',
    `lxc.net.0.hwaddr = ${v('mac', 'mac', c.mac)}`,
    `lxc.net.0.ipv4.address = ${v('ip', 'ipv4', c.ip)}/${v('prefix length', 'prefixLength', c.prefixLength)}`,
    ...(c.mtu !== undefined ? [`lxc.net.0.mtu = ${v('mtu', 'mtu', c.mtu)}`] : []),
    '',
  ].join('\n');
}
