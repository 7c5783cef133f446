// The script that turns TCP repair mode off on a container's connections
// (after a lazy dump that failed), against the real kernel: a process in a
// pid namespace of its own holds a loopback connection in repair mode, where
// it cannot send; after the script, it sends and its peer reads.
import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { TCP_REPAIR_OFF } from '../../migration/criu/network-lock.js';

/** Prints its pid as the host sees it (NSpid's first: /proc stays the host's), then holds an accepted connection in repair mode until told to check it. */
const HOLDER = `
import socket, sys
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(1)
c = socket.create_connection(l.getsockname()); s, _ = l.accept()
s.setsockopt(socket.IPPROTO_TCP, 19, 1)
host_pid = [line.split()[1] for line in open('/proc/self/status') if line.startswith('NSpid:')][0]
print(host_pid, flush=True)
sys.stdin.readline()
try:
    s.setsockopt(socket.IPPROTO_TCP, 20, 1)  # TCP_REPAIR_QUEUE: allowed only in repair mode
    print('still in repair mode', flush=True)
except OSError:
    s.send(b'x'); c.settimeout(5)
    print('sent and read ' + c.recv(1).decode(), flush=True)
`;

describe('TCP repair mode off', () => {
  it.skipIf(process.getuid?.() !== 0)('reaches a connection held in repair mode in another pid namespace, after which it sends again', async () => {
    const holder = spawn('unshare', ['--pid', '--fork', 'python3', '-c', HOLDER], { stdio: ['pipe', 'pipe', 'inherit'], timeout: 20_000 });
    const lines = createInterface({ input: holder.stdout })[Symbol.asyncIterator]();
    try {
      const pid = String((await lines.next()).value);
      expect(pid).toMatch(/^\d+$/);
      const out = execFileSync('python3', ['-c', TCP_REPAIR_OFF, pid], { timeout: 10_000 }).toString();
      // Both ends live in the holder: the one in repair mode and its peer (already out of it: unchanged).
      expect(out.trim()).toBe('TCP repair mode off on 2 connection(s)');
      holder.stdin.write('check\n');
      expect((await lines.next()).value).toBe('sent and read x');
    } finally {
      holder.kill();
    }
  });
});
