// The seam to CRIU itself: argv builders, no I/O. liblxc's lxc-checkpoint
// cannot reach the page server, and on cgroup v2 it cannot dump a container
// it has restored ("Failed getting freezer path"), so pre-dumps and dumps run
// CRIU directly with the options liblxc itself passes (captured from
// lxc-checkpoint on the guests: LXC 6.0.4, CRIU 4.1.1). Restores stay with
// lxc-checkpoint -r, so the restored container has an LXC monitor and is an
// ordinary container (lxc-info, lxc-stop).

/** What a dump needs to know about the running container, read on the node (probeContainerProcess). */
export interface ContainerProcess {
  /** PID of the container's init in the node's PID namespace. */
  initPid: number;
  /** cgroup v2 path of the container, relative to /sys/fs/cgroup (e.g. lxc.payload.c1). */
  cgroup: string;
  /** Controllers enabled in that cgroup, as LXC lists them for --cgroup-root. */
  controllers: string[];
  /** Host-side names of the container's veth pairs (LXC's "Link:" lines that are veths here): taken down by the final dump's hook. */
  hostLinks: string[];
  /** Whether a task of the container holds an inotify descriptor: CRIU then needs --force-irmap to find the watched files. */
  inotify: boolean;
  /** Inode of the container's network namespace: the dump names it external when the destination prepares the network. */
  netnsInode: number;
}

/**
 * The CRIU options a strategy may change from LXC's own. LXC_TUNING is what
 * lxc-checkpoint passes, and what the paper's strategies keep.
 */
export interface CriuTuning {
  /** How CRIU locks the container's network while it dumps: iptables (CRIU's default: iptables-save and -restore execs) or one nftables table. */
  networkLock: 'iptables' | 'nftables';
  /** How a pre-dump reads memory: splice (CRIU's default) or read (process_vm_readv after the tasks run again: shorter freeze). */
  preDumpMode: 'splice' | 'read';
  /** --force-irmap: always (as LXC), or only when the container has inotify watches (the only thing it is for). */
  forceIrmap: 'always' | 'if-inotify';
  /** Set-up makes sure /run/criu.kdat (CRIU's cache of its kernel checks) exists on both edges, so no timed CRIU run makes it. */
  warmKdat: boolean;
  /**
   * The container's network namespace: dumped and restored by CRIU (ip and
   * iptables execs on both sides, LXC's way), or left out of the images and
   * prepared on the restoring edge, which LXC's restore joins (lxc/network.ts).
   */
  network: 'dumped' | 'prepared';
}

export const LXC_TUNING: CriuTuning = { networkLock: 'iptables', preDumpMode: 'splice', forceIrmap: 'always', warmKdat: false, network: 'dumped' };

/** The key a dump gives the container's network namespace when it leaves it out (lxc/network.ts), and the restore finds it by. */
export const NETNS_KEY = 'followme-net';

/** A network interface name as the kernel allows it (IFNAMSIZ - 1, not "." or ".."), with nothing a shell would read. */
export const LINK_NAME_PATTERN = /^(?!\.{1,2}$)[A-Za-z0-9_.-]{1,15}$/;

export interface PageServerTarget {
  address: string;
  port: number;
}

export interface DumpRequest {
  container: ContainerProcess;
  imagesDir: string;
  /** The previous iteration's images, relative to imagesDir (CRIU's rule), e.g. "../pre-1". */
  prevImagesDir?: string;
  /** Stream pages to a page server instead of writing them to imagesDir. */
  pageServer?: PageServerTarget;
  /** A lazy final dump (criu/lazy.ts): the pages that can be lazy stay in the frozen source, served from this address and port. */
  lazyPages?: PageServerTarget;
  /** CRIU's --action-script: a final dump's post-dump hook (post-dump-hook.ts). */
  actionScript?: string;
  /** Options changed from LXC's (default LXC_TUNING). */
  tuning?: CriuTuning;
}

/** LXC's fixed options for every CRIU action on a container. */
function lxcCommon(action: string, imagesDir: string, c: ContainerProcess): string[] {
  return [
    'criu',
    action,
    '--tcp-established',
    '--file-locks',
    '--link-remap',
    '--manage-cgroups=full',
    '--ext-mount-map',
    'auto',
    '--enable-external-sharing',
    '--enable-external-masters',
    '--enable-fs',
    'hugetlbfs',
    '--enable-fs',
    'tracefs',
    '-D',
    imagesDir,
    '-o',
    `${imagesDir}/${action}.log`,
    '--cgroup-root',
    `${c.controllers.join(',')}:${c.cgroup}`,
    // common.conf bind-mounts the fuse connections dir; LXC maps it by this key.
    '--ext-mount-map',
    '/sys/fs/fuse/connections:sys/fs/fuse/connections',
  ];
}

function dumpArgv(action: 'pre-dump' | 'dump', r: DumpRequest): string[] {
  const argv = [
    ...lxcCommon(action, r.imagesDir, r.container),
    '-t',
    String(r.container.initPid),
    '--skip-in-flight',
    '--freeze-cgroup',
    `/sys/fs/cgroup/${r.container.cgroup}`,
    // Soft-dirty tracking, so the next iteration writes only pages changed since this one.
    '--track-mem',
  ];
  const t = r.tuning ?? LXC_TUNING;
  if (t.forceIrmap === 'always' || r.container.inotify) argv.push('--force-irmap');
  if (t.networkLock === 'nftables') argv.push('--network-lock', 'nftables');
  // A pre-dump saves memory alone: only the final dump has a namespace to leave out.
  if (action === 'dump' && t.network === 'prepared') argv.push('--external', `net[${r.container.netnsInode}]:${NETNS_KEY}`);
  if (action === 'pre-dump' && t.preDumpMode === 'read') argv.push('--pre-dump-mode=read');
  if (r.prevImagesDir) argv.push('--prev-images-dir', r.prevImagesDir);
  if (r.pageServer) argv.push('--page-server', '--address', r.pageServer.address, '--port', String(r.pageServer.port));
  if (r.lazyPages) argv.push('--lazy-pages', '--address', r.lazyPages.address, '--port', String(r.lazyPages.port));
  if (r.actionScript) argv.push('--action-script', r.actionScript);
  return argv;
}

export const criu = {
  /** Memory only; the container keeps running. */
  preDump: (r: DumpRequest) => dumpArgv('pre-dump', r),
  /** The final dump: the container is frozen, dumped and killed (no --leave-running). */
  dump: (r: DumpRequest) => dumpArgv('dump', r),
  /**
   * A page server for one dump session, daemonized once it listens (so the
   * dump may connect as soon as this returns); it exits when the dump ends.
   */
  pageServer: (o: { imagesDir: string; address: string; port: number; prevImagesDir?: string; pidFile: string }) => {
    const argv = [
      'criu',
      'page-server',
      '--images-dir',
      o.imagesDir,
      '--address',
      o.address,
      '--port',
      String(o.port),
      '--daemon',
      '--pidfile',
      o.pidFile,
      '-o',
      `${o.imagesDir}/page-server.log`,
    ];
    if (o.prevImagesDir) argv.push('--prev-images-dir', o.prevImagesDir);
    return argv;
  },
  version: () => ['criu', '--version'],
  /** Makes CRIU's kernel-feature cache if it is missing (any CRIU run writes it; `check` is the cheapest); exits 0 once it exists. */
  warmKdat: () => ['sh', '-c', '[ -e /run/criu.kdat ] || criu check >/dev/null 2>&1; [ -e /run/criu.kdat ]'],
} as const;

/** "Version: 4.1.1\n…" → "4.1.1". */
export function parseCriuVersion(stdout: string): string {
  const m = /^Version:\s*(\S+)/m.exec(stdout);
  return m?.[1] ?? stdout.trim().split('\n')[0] ?? '';
}

/**
 * Reads init's PID, its cgroup, the cgroup's controllers, whether any of its
 * tasks holds an inotify descriptor, and the container's host-side veths in
 * one round trip. Constant script text; the container
 * name arrives as "$1".
 */
export const probeContainerProcess = (name: string): string[] => [
  'sh',
  '-c',
  'pid=$(lxc-info -n "$1" -p -H) || exit 3; echo "$pid"; cg=$(sed -n "s/^0:://p" "/proc/$pid/cgroup") || exit 4; echo "$cg"; cat "/sys/fs/cgroup$cg/cgroup.controllers" || exit 5; n=no-inotify; for p in $(find "/sys/fs/cgroup$cg" -name cgroup.procs -exec cat {} +); do ls -l "/proc/$p/fd" 2>/dev/null | grep -q "anon_inode:inotify" && n=inotify && break; done; echo "$n"; stat -L -c %i "/proc/$pid/ns/net" || exit 6; for l in $(lxc-info -n "$1" | sed -n "s/^Link:[[:space:]]*//p"); do [ -n "$(ip -o link show dev "$l" type veth 2>/dev/null)" ] && echo "$l"; done; exit 0',
  'probe',
  name,
];

export function parseContainerProcess(stdout: string, what: string): ContainerProcess {
  const [pidLine, cgLine, ctlLine, inotifyLine, netnsLine, ...linkLines] = stdout.trim().split('\n');
  const initPid = Number(pidLine);
  if (!Number.isInteger(initPid) || initPid <= 1) throw new Error(`${what}: no init PID in ${JSON.stringify(pidLine)}`);
  const cgroup = (cgLine ?? '').trim().replace(/^\//, '');
  if (!cgroup) throw new Error(`${what}: init ${initPid} is in no cgroup v2 path (is the node on cgroup v2?)`);
  const controllers = (ctlLine ?? '').trim().split(/\s+/).filter(Boolean);
  const hostLinks = linkLines.map((l) => l.trim()).filter(Boolean);
  const odd = hostLinks.find((l) => !LINK_NAME_PATTERN.test(l));
  if (odd !== undefined) throw new Error(`${what}: LXC lists a link named ${JSON.stringify(odd.slice(0, 40))}, not an interface name`);
  if (inotifyLine !== 'inotify' && inotifyLine !== 'no-inotify')
    throw new Error(`${what}: no inotify line in the probe's output (${JSON.stringify(inotifyLine?.slice(0, 40))})`);
  const netnsInode = Number(netnsLine);
  if (!Number.isSafeInteger(netnsInode) || netnsInode <= 0)
    throw new Error(`${what}: no network namespace inode in ${JSON.stringify(netnsLine?.slice(0, 40))}`);
  return { initPid, cgroup, controllers, hostLinks, inotify: inotifyLine === 'inotify', netnsInode };
}
