// CRIU's network lock, removed where CRIU did not: a CRIU killed between its
// dump and its restore, or a lazy dump whose server failed (criu/lazy.ts),
// leaves the container's network namespace locked, and the latter its TCP
// connections in repair mode.
import { command } from '../edge-command.js';
import type { Edge } from '../edge.js';
import { lxc } from '../lxc/commands.js';

/** Removes CRIU's network lock in the namespace it runs in; prints what it removed, one line each. */
export const DROP_NETWORK_LOCK = [
  'for t in iptables ip6tables; do',
  '  command -v "$t" >/dev/null || continue',
  '  "$t" -w -S CRIU >/dev/null 2>&1 || continue',
  '  "$t" -w -D INPUT -j CRIU 2>/dev/null; "$t" -w -D OUTPUT -j CRIU 2>/dev/null',
  '  "$t" -w -F CRIU && "$t" -w -X CRIU && echo "$t"',
  'done',
  // CRIU 4 names its nftables table after the run that locked: inet CRIU-<run id>.
  'if command -v nft >/dev/null; then for t in $(nft list tables 2>/dev/null | sed -n "s/^table inet \\(CRIU[A-Za-z0-9-]*\\)$/\\1/p"); do nft delete table inet "$t" && echo "nftables $t"; done; fi',
  'exit 0',
].join('\n');

/**
 * Turns TCP repair mode off on every established TCP connection of the
 * tasks in the pid namespace of the pid given as its argument, as CRIU does
 * when a dump fails: each socket is reached through a duplicate of its
 * descriptor (pidfd_getfd, syscall 438), which shares the socket. A lazy
 * dump that fails after its images were written resumes the tasks with
 * their connections still in repair mode, where they neither send nor
 * answer. Prints what it did, if anything. Python: the guests have it, and
 * no shell tool reaches another process's socket.
 */
export const TCP_REPAIR_OFF = `
import ctypes, os, socket, sys
TCP_REPAIR, ESTABLISHED, SYS_PIDFD_GETFD = 19, 1, 438
libc = ctypes.CDLL(None, use_errno=True)
ns = os.readlink('/proc/%s/ns/pid' % sys.argv[1])
seen, done = set(), 0
for pid in filter(str.isdigit, os.listdir('/proc')):
    try:
        if os.readlink('/proc/%s/ns/pid' % pid) != ns:
            continue
        pidfd = os.pidfd_open(int(pid))
    except OSError:
        continue
    try:
        for fd in os.listdir('/proc/%s/fd' % pid):
            try:
                link = os.readlink('/proc/%s/fd/%s' % (pid, fd))
                if not link.startswith('socket:') or link in seen:
                    continue
                seen.add(link)
                dup = libc.syscall(SYS_PIDFD_GETFD, pidfd, int(fd), 0)
                if dup < 0:
                    continue
                with socket.socket(fileno=dup) as s:
                    tcp = s.type == socket.SOCK_STREAM and s.family in (socket.AF_INET, socket.AF_INET6)
                    if tcp and s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0] == ESTABLISHED:
                        s.setsockopt(socket.IPPROTO_TCP, TCP_REPAIR, 0)
                        done += 1
            except OSError:
                pass
    finally:
        os.close(pidfd)
if done:
    print('TCP repair mode off on %d connection(s)' % done)
`;

/**
 * CRIU locks the container's network while it dumps and unlocks it when the
 * dump fails or the restore ends; a CRIU killed in between leaves the lock
 * (an iptables chain named CRIU, or an nftables table inet CRIU-<run id>)
 * and the container cut off. A lazy dump whose server failed also leaves
 * the connections in TCP repair mode: turned off here too.
 * Returns what was removed, if anything.
 */
export async function dropNetworkLock(edge: Edge, container: string): Promise<string | undefined> {
  const pid = (await edge.exec(command('lxc-pid', lxc.pid(container)), { allowFailure: true })).stdout.trim();
  if (!/^\d+$/.test(pid)) return undefined;

  const r = await edge.exec(
    command('drop-network-lock', ['sh', '-c', 'nsenter -t "$0" -n sh -c "$1"; python3 -c "$2" "$0"', pid, DROP_NETWORK_LOCK, TCP_REPAIR_OFF]),
    { allowFailure: true },
  );
  const removed = r.stdout.trim().split('\n').filter(Boolean);
  return removed.length ? removed.join(', ') : undefined;
}
