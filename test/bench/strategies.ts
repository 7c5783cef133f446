// npm run bench -- strategies: the paper replica (tmpfs, 2 pre-dumps, LXC's
// options) beside each new strategy, in one run on one testbed, in
// alternating order, on three-vm-nfs so the shared variants run beside the
// others (strategies-vms.ts). Per workload cell and strategy it
// prints the median and the 95 % CI of the engine's downtime and of the
// service downtime the 10 ms probe saw, Ψ, the last dump's pages, CRIU's
// frozen and restore times, the engine's overhead, and each median's ratio
// to the replica's. Figures, not assertions. FOLLOWME_BENCH_FROM=DIR
// summarises a finished or stopped bench's results directory instead
// (strategies-summary.ts), running nothing.
import { runSandboxed } from './sandboxed.js';
import { readBenchDir, summarizeBench } from './strategies-summary.js';

export function benchStrategies(): Promise<Record<string, string>> {
  const from = process.env['FOLLOWME_BENCH_FROM'];
  if (from) {
    const { plans, runs } = readBenchDir(from);
    return summarizeBench(from, runs, plans);
  }
  return runSandboxed('dist/test/bench/strategies-vms.js', 'strategies');
}
