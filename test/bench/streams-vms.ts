// The sandboxed half of `npm run bench -- streams` (see streams.ts): on a
// two-vm testbed, the video container with a progressive-download client
// (one GET read at the video's rate, the server's socket full) and the tcp
// container with its two full streams, each moved back and forth by tmpfs
// and diskless (FOLLOWME_STREAMS_MOVES moves each, alternating), every byte
// checked at both ends. The video's moves also run the old-copy probe
// (a connection attempt every millisecond from the final dump to the
// restore; a refused one is a reset from the old copy). Packets of both
// services are captured (tcpdump in the sandbox) to FOLLOWME_STREAMS_PCAP
// when set. Progress on stderr; the rows as one JSON line on stdout.
import { type ChildProcess, spawn } from 'node:child_process';
import { sshTarget } from '../../common/ssh/target.js';
import { SshConnection } from '../../common/ssh/transport.js';
import { ensureContainer, type ExperimentContainer } from '../../experiment/containers.js';
import { migrate } from '../../migration/engine/migrate.js';
import { down, up } from '../../provision/testbed/runner.js';
import { loadStack, stackConfigPath } from '../../provision/topology/stack-config.js';
import { eventually } from '../../workloads/http.js';
import { workloadNamed } from '../../workloads/index.js';
import type { ClientReport, WorkloadClient } from '../../workloads/types.js';
import { oldCopyProbe } from '../integration/old-copy-probe.js';

const MOVES = Number(process.env['FOLLOWME_STREAMS_MOVES'] ?? 4);
const PCAP = process.env['FOLLOWME_STREAMS_PCAP'];
const t0 = Date.now();
const log = (l: string) => process.stderr.write(`  · [${((Date.now() - t0) / 1000).toFixed(1)}s] ${l}\n`);

const stack = 'two-vm';
const topology = loadStack(stack);
const rows: Record<string, string> = {};
let capture: ChildProcess | undefined;
try {
  const { inventory: inv } = await up({ topology, source: stackConfigPath(stack), stack, log });
  const [a, b] = inv.nodes.filter((n) => n.role === 'edge').map((n) => n.name) as [string, string];
  const subjects: { c: ExperimentContainer; params: Record<string, unknown>; probePort?: number }[] = [
    {
      c: { name: 'video', workload: 'video', shared: false, ...inv.containerAddresses[0]! },
      params: { ...workloadNamed('video').defaults, durationS: 150, client: 'progressive' },
      probePort: 80,
    },
    { c: { name: 'tcp', workload: 'tcp', shared: false, ...inv.containerAddresses[2]! }, params: { ...workloadNamed('tcp').defaults } },
  ];
  if (PCAP) {
    capture = spawn('tcpdump', ['-i', 'any', '-nn', '-s', '160', '-w', PCAP, 'tcp and (port 80 or port 9001 or port 9002)'], { stdio: 'ignore' });
    log(`capturing to ${PCAP}`);
  }
  for (const { c, params, probePort } of subjects) {
    const workload = workloadNamed(c.workload);
    let where = await ensureContainer(inv, c, params, log);
    // The service answers, and for tcp its streams listen, before the client starts.
    await eventually(() => workload.readState(c.ip));
    const client: WorkloadClient = await workload.startClient!(c.ip, params as never, { maxMs: 30 * 60_000 });
    const clientStart = Date.now();
    const moves: string[] = [];
    let oldCopyAnswered = 0;
    for (let i = 0; i < MOVES; i++) {
      const strategy = i % 2 === 0 ? 'tmpfs' : 'diskless';
      const to = where === a ? b : a;
      const start = Date.now() - clientStart;
      const probe = probePort ? oldCopyProbe(c.ip, probePort) : undefined;
      const rec = await migrate({
        inventory: inv,
        strategy,
        container: c.name,
        from: where,
        to,
        onEvent: (e) => {
          probe?.onEvent(e);
          if (e.type === 'phase-start' || e.type === 'cleanup-done')
            log(`${c.name} ${strategy}: ${e.type} ${'name' in e ? e.name : ''} at ${Date.now() - clientStart} ms`);
        },
      });
      const seen = await probe?.stop();
      if (seen?.refused) oldCopyAnswered++;
      const probed = seen ? `, old copy refused ${seen.refused} of ${seen.attempts} connection attempts` : '';
      moves.push(`${strategy} ${where}→${to} ${rec.outcome} from ${start} ms, downtime ${rec.downtimeMs?.toFixed(0)} ms${probed}`);
      log(moves.at(-1)!);
      where = to;
    }
    // Twenty seconds more of streaming after the last move: a reset that comes after the source's cleanup shows too.
    await new Promise((r) => setTimeout(r, 20_000));
    const report: ClientReport = await client.stop();
    const state = await workload.readState(c.ip);
    const nginxLog = await SshConnection.with(sshTarget(inv, inv.nodes.find((n) => n.name === where)!), (conn) =>
      conn.run(['sh', '-c', 'lxc-attach -n "$0" -- sh -c "cat /run/nginx/error.log 2>/dev/null | tail -5"', c.name]),
    );
    rows[`${c.name}: moves`] = moves.join('; ');
    if (probePort) rows[`${c.name}: moves on which the old copy answered after its lock`] = `${oldCopyAnswered} of ${MOVES}`;
    rows[`${c.name}: client`] =
      `${report.kind}: ${report.verifiedBytes ?? 0} bytes checked, ${report.connections} connection(s), longest stall ${report.longestStallMs.toFixed(0)} ms${report.error ? `, ERROR at ${report.errorAtMs?.toFixed(0)} ms: ${report.error}` : ', no error'}`;
    rows[`${c.name}: state`] = `${state.intact ? 'intact' : 'NOT intact'}: ${state.text}`;
    if (nginxLog.stdout.trim()) rows[`${c.name}: nginx error log`] = nginxLog.stdout.trim().split('\n').join(' | ');
  }
} finally {
  capture?.kill('SIGINT');
  await down(topology, log);
}
process.stdout.write(`${JSON.stringify(rows)}\n`);
