// followme follow: trips along a road testbed (given by its inventory, or
// brought up and down here with --stack), from a trip plan or from one
// --trace and flags that make the same plan. Every input is checked first:
// the plan, the road, every trace against the road's cells.
import { resolve } from 'node:path';
import { ConfigError } from '../../common/errors.js';
import { readInventory } from '../../common/inventory.js';
import { strategyNamed, strategyNames } from '../../migration/strategies/index.js';
import { type FollowOptions, type LoadedTrace, checkTripPlanFitsTestbed, runFollow } from '../../mobility/follow.js';
import { HANDOVER_POLICIES } from '../../mobility/policies/registry.js';
import { cellsOf, latencyProfileOf } from '../../mobility/road.js';
import { readTripPlan, resolveTripPlan, strategiesFor, traceNameOf, type TripPlan } from '../../mobility/trip-plan.js';
import { readTrip, tripSize } from '../../mobility/trip.js';
import { down, up } from '../../provision/testbed/runner.js';
import { WORKLOAD_NAMES } from '../../workloads/types.js';
import { decimalNumber, oneOf, outputDir, wholeNumber } from '../flags.js';
import { log, print } from '../output.js';
import type { FollowFlags } from '../program.js';
import { logEvent } from './migrate.js';
import { loadTopology } from './testbed.js';

const list = (v: string) =>
  v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** --trace and its flags, as the plan a trip plan file would be. */
function planFromFlags(flags: FollowFlags, trace: string): TripPlan {
  const policies = list(flags.policy).map((p) =>
    oneOf(
      'policy',
      p,
      HANDOVER_POLICIES.map((x) => x.name),
    ),
  );
  const strategies = list(flags.strategy).map((s) => oneOf('strategy', s, strategyNames()));
  for (const p of policies) {
    const policy = HANDOVER_POLICIES.find((x) => x.name === p)!;
    if (strategiesFor(policy, strategies).length === 0)
      throw new ConfigError(`--strategy: ${p} moves on ${policy.storage} storage, and none of ${strategies.join(', ') || '(none)'} does`, 'strategy');
  }
  const name = traceNameOf(trace);
  const doc = {
    tripPlanVersion: 1,
    name: `follow-${name}`.slice(0, 32).replace(/-+$/, ''),
    traces: [{ file: resolve(trace), name, ...(flags.vehicle !== undefined ? { vehicle: flags.vehicle } : {}) }],
    policies: [...new Set(policies)],
    ...(strategies.length ? { strategies: [...new Set(strategies)] } : {}),
    repetitions: wholeNumber('repetitions', flags.repetitions, 1, 100),
    workload: { name: oneOf('workload', flags.workload, WORKLOAD_NAMES) },
    ...(flags.latency !== undefined ? { latency: flags.latency } : {}),
    budgetMs: decimalNumber('budget', flags.budget, 0.1, 10_000),
    speedup: decimalNumber('speedup', flags.speedup, 0.1, 100),
  };
  return resolveTripPlan(doc, '--trace and its flags', process.cwd(), { tracesAnywhere: true });
}

function checkFlags(flags: FollowFlags): void {
  if ((flags.plan === undefined) === (flags.trace === undefined)) throw new ConfigError('--plan or --trace: give one (a trip plan, or one trace)', 'plan');
  if (flags.plan !== undefined) {
    const traceOnly = ['vehicle', 'latency'] as const;
    for (const f of traceOnly) if (flags[f] !== undefined) throw new ConfigError(`--${f}: goes with --trace; a plan says it in its own keys`, f);
  }
  if (flags.inventory !== undefined && flags.stack !== undefined)
    throw new ConfigError('--inventory and --stack: give one (a running testbed, or one to bring up)', 'stack');
  if (flags.inventory === undefined && flags.stack === undefined && flags.config === undefined)
    throw new ConfigError('--inventory or --stack: one is needed', 'inventory');
  for (const [flag, given] of [
    ['prefix', flags.prefix],
    ['keep', flags.keep],
  ] as const) {
    if (flags.inventory !== undefined && given !== undefined)
      throw new ConfigError(`--${flag}: goes with --stack (a testbed brought up here); with --inventory the testbed is the inventory's`, flag);
  }
}

export async function followCommand(flags: FollowFlags): Promise<void> {
  // Every input first: nothing is created and no connection opened until all pass.
  checkFlags(flags);
  const plan = flags.plan !== undefined ? readTripPlan(flags.plan) : planFromFlags(flags, flags.trace!);
  const inventory = flags.inventory !== undefined ? readInventory(flags.inventory) : undefined;
  const roadStack = flags.stack ?? inventory?.stack;
  if (roadStack === undefined && flags.config === undefined)
    throw new ConfigError(`--config: the road (cells, latency profiles) comes from a stack config, and inventory ${flags.inventory} names no stack`, 'config');
  const road = loadTopology({
    stack: roadStack ?? 'corridor',
    ...(flags.config ? { config: flags.config } : {}),
    ...(flags.prefix ? { prefix: flags.prefix } : {}),
  });
  const cells = cellsOf(road.topology, road.source);
  const latency = latencyProfileOf(road.topology, road.source, plan.latency);
  const traces = new Map<string, LoadedTrace>();
  for (const t of plan.traces) {
    const trip = readTrip(t.file, cells, t.vehicle !== undefined ? { vehicle: t.vehicle } : {});
    const { durationS, lengthM } = tripSize(trip);
    traces.set(t.name, {
      trip,
      facts: { file: t.file, sha256: trip.sha256, format: trip.format, vehicle: trip.vehicle, points: trip.points.length, durationS, lengthM },
    });
    log(
      `trace ${t.name}: ${trip.vehicle}, ${Math.round(lengthM)} m in ${durationS.toFixed(0)} s (${(durationS / plan.speedup).toFixed(0)} s at ×${plan.speedup})`,
    );
  }
  if (inventory) checkTripPlanFitsTestbed(plan, inventory, cells);
  const onShare = plan.strategies.filter((s) => strategyNamed(s).storage.needsShare);
  if (!inventory && onShare.length && !road.topology.nodes.some((n) => n.role === 'nfs'))
    throw new ConfigError(`plan.strategies: ${onShare.join(', ')} need an NFS node; ${road.source} has none`, 'strategies');
  const out = outputDir('out', flags.out ?? `followme-results/${plan.name}`);

  const run = async (inv: NonNullable<typeof inventory>) => {
    const options: FollowOptions = {
      plan,
      planFile: flags.plan !== undefined ? resolve(flags.plan) : '(--trace and its flags)',
      inventory: inv,
      cells,
      latency,
      traces,
      out,
      ...(road.stack ? { stack: road.stack } : {}),
      log,
      onEvent: (e) => logEvent(e, (l) => log(`    ${l}`)),
    };
    const r = await runFollow(options);
    const bad = r.trips.filter((t) => t.trip.outcome !== 'completed' || t.trip.state.problem);
    print(
      `${r.trips.length} trips in ${out}/trip.jsonl (${r.ranNow} now), ${r.trips.length - bad.length} completed with their state intact` +
        `${bad.length ? `; not: ${bad.map((t) => t.trip.key).join(', ')}` : ''}\nreport: followme report ${out}\n`,
    );
  };
  if (inventory) return run(inventory);
  const t = road;
  try {
    const r = await up({ topology: t.topology, source: t.source, ...(t.stack ? { stack: t.stack } : {}), log });
    log(`testbed ${t.topology.prefix}: ready in ${(r.timingsMs['total']! / 1000).toFixed(1)} s`);
    await run(r.inventory);
  } finally {
    if (flags.keep) log(`--keep: testbed ${t.topology.prefix} left up; \`followme testbed down --stack ${t.stack ?? '…'}\` removes it`);
    else await down(t.topology, log);
  }
}
