// Network profiles on a live testbed: shape each edge's uplink towards the
// other nodes (tc, see profiles.ts), take it off again, and measure the
// edge-to-edge path once per profile: RTT with ping, throughput with a bounded
// TCP transfer (bash's /dev/tcp into a python3 receiver in the guest).
import { FollowmeError } from '../common/errors.js';
import type { Inventory, InventoryNode } from '../common/inventory.js';
import { sshTarget } from '../common/ssh/target.js';
import { SshConnection } from '../common/ssh/transport.js';
import type { ProfileMeasurement } from './manifest.js';
import { clearCommands, shapeCommands, type Profile } from './profiles.js';

/**
 * The edge's NIC in br0: the one port with a device behind it. The bridge
 * also holds the containers' veths, which have none, whatever their names
 * (LXC's vethXXXX, or the prepared network's per-migration fm… names).
 */
const UPLINK_SCRIPT = 'for p in /sys/class/net/br0/brif/*; do n=$(basename "$p"); [ -e "/sys/class/net/$n/device" ] && echo "$n"; done; exit 0';

const edgesOf = (inv: Inventory) => inv.nodes.filter((n) => n.role === 'edge');

export async function uplink(c: SshConnection): Promise<string> {
  const names = (await c.check(['sh', '-c', UPLINK_SCRIPT])).stdout.split('\n').filter((l) => /^[A-Za-z0-9_.-]{1,15}$/.test(l.trim()));
  if (names.length !== 1) throw new FollowmeError(`${c.target.node}: cannot tell the uplink among br0's ports: ${names.join(', ') || 'none'}`);
  return names[0]!.trim();
}

/** Shapes every edge's traffic to the other nodes with `p`. */
export async function applyProfile(inv: Inventory, p: Profile): Promise<void> {
  for (const e of edgesOf(inv)) {
    const peers = inv.nodes.filter((n) => n.name !== e.name).map((n) => n.ip);
    await SshConnection.with(sshTarget(inv, e), async (c) => {
      const dev = await uplink(c);
      const [clear, ...shape] = shapeCommands(dev, peers, p);
      await c.run(clear!);
      for (const argv of shape) await c.check(argv);
    });
  }
}

export async function clearProfile(inv: Inventory): Promise<void> {
  for (const e of edgesOf(inv)) {
    await SshConnection.with(sshTarget(inv, e), async (c) => {
      for (const argv of clearCommands(await uplink(c))) await c.run(argv);
    });
  }
}

export function parsePingRtt(out: string): { min: number; avg: number; max: number } {
  const m = /= ([\d.]+)\/([\d.]+)\/([\d.]+)\//.exec(out);
  if (!m) throw new FollowmeError(`ping printed no round-trip summary: ${JSON.stringify(out.slice(-200))}`);
  return { min: Number(m[1]), avg: Number(m[2]), max: Number(m[3]) };
}

const RECEIVER = `
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(1); s.settimeout(30)
c, _ = s.accept(); c.settimeout(60)
n = 0; t0 = None
while True:
    b = c.recv(1 << 20)
    if not b: break
    if t0 is None: t0 = time.monotonic()
    n += len(b)
print(n, time.monotonic() - (t0 or time.monotonic()))
`;

const MEASURE_PORT = 5299;
const MEASURE_BYTES = 32 * 1024 * 1024;

/** RTT (10 pings) and throughput (32 MiB, one TCP stream) from the first edge to the second. */
export async function measurePath(inv: Inventory): Promise<ProfileMeasurement> {
  const [a, b] = edgesOf(inv) as [InventoryNode, InventoryNode];
  return SshConnection.with(sshTarget(inv, a), (ca) =>
    SshConnection.with(sshTarget(inv, b), async (cb) => {
      const ping = await ca.check(['ping', '-n', '-q', '-c', '10', '-i', '0.2', '-W', '2', b.ip], { timeoutMs: 60_000 });
      const receiving = cb.check(['timeout', '90', 'python3', '-c', RECEIVER, b.ip, String(MEASURE_PORT)], { timeoutMs: 120_000 });
      // The receiver needs a moment to listen; the sender retries its connect for a few seconds.
      await ca.check(
        [
          'bash',
          '-c',
          'for i in $(seq 50); do exec 3<>"/dev/tcp/$0/$1" 2>/dev/null && break; sleep 0.1; done; head -c "$2" /dev/zero >&3; exec 3>&-',
          b.ip,
          String(MEASURE_PORT),
          String(MEASURE_BYTES),
        ],
        { timeoutMs: 120_000 },
      );
      const [bytes = '0', seconds = '0'] = (await receiving).stdout.trim().split(/\s+/);
      if (Number(bytes) !== MEASURE_BYTES || !(Number(seconds) > 0)) {
        throw new FollowmeError(`throughput ${a.name} → ${b.name}: received ${bytes} of ${MEASURE_BYTES} bytes in ${seconds} s`);
      }
      return {
        rttMs: parsePingRtt(ping.stdout),
        throughputMbit: (Number(bytes) * 8) / Number(seconds) / 1e6,
        between: [a.name, b.name] as [string, string],
        at: new Date().toISOString(),
      };
    }),
  );
}
