// Faults put into a migration on purpose, so a lab can measure what
// followme does when an edge, the link, a disk, a daemon or the controller's
// SSH fails mid-migration. A fault goes in at the start of one phase (or a
// set delay into it) and is healed when the migration fails or ends; the
// engine writes what was done into the migration's record. The controller
// itself killed is not put in from inside it: controller-killed.ts runs that
// migration in a process of its own.
import { readFileSync } from 'node:fs';
import { type Static, Type } from '@sinclair/typebox';
import { ConfigError, ReadinessTimeoutError } from '../common/errors.js';
import type { Inventory, InventoryNode } from '../common/inventory.js';
import { SshConnection } from '../common/ssh/transport.js';
import { sshTarget } from '../common/ssh/target.js';
import type { Edge } from '../migration/edge.js';
import { faultPhaseMatches, type FaultHook, type Strategy } from '../migration/engine/types.js';
import type { FaultRecord, StrategyName } from '../migration/record/schema.js';
import { strategyNamed, strategyNames } from '../migration/strategies/index.js';
import { TMPFS_ROOT } from '../migration/storage/copied.js';
import { hasLazyWindow, LAZY_PAGES_PHASE } from '../migration/strategies/lazy-steps.js';
import { virsh } from '../provision/libvirt/virsh.js';
import { STAGE_LIMITS, waitNodeReady } from '../provision/testbed/readiness.js';

/** Faults the engine's hook puts in from inside the controller. */
export const FAULT_KINDS = [
  'link-cut',
  'dest-destroyed',
  'source-destroyed',
  'dest-full',
  'page-server-killed',
  'nfs-stopped',
  'ssh-dropped-source',
  'ssh-dropped-dest',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
/** The controller killed with SIGKILL, then `recover`. */
export const CONTROLLER_KILLED = 'controller-killed' as const;
/** What a plan may ask for. */
export const PLAN_FAULT_KINDS = [...FAULT_KINDS, CONTROLLER_KILLED] as const;
export type PlanFaultKind = (typeof PLAN_FAULT_KINDS)[number];

export const FAULT_SUMMARIES: Record<PlanFaultKind, string> = {
  'link-cut': 'packets between the two edges dropped (iptables on the destination) until healed',
  'dest-destroyed': 'the destination VM killed (virsh destroy); healed by starting it and waiting until it is ready',
  'source-destroyed': "the source VM killed (virsh destroy) in a post-copy move's lazy window; healed by starting it and waiting until it is ready",
  'dest-full': "the destination's tmpfs and root file system filled to the last block",
  'page-server-killed': "CRIU's page server on the destination killed (diskless)",
  'nfs-stopped': 'the NFS server stopped (shared) until healed',
  'ssh-dropped-source': "the controller's SSH connection to the source cut",
  'ssh-dropped-dest': "the controller's SSH connection to the destination cut",
  'controller-killed': "the migration's controller process killed with SIGKILL; then `recover` settles the migration",
};

/**
 * Where a fault means something: a page server killed needs a strategy that
 * starts one; the NFS server stopped, one on shared storage; the source
 * destroyed, a lazy window (before it, a source that dies takes the
 * container with it whatever the strategy: no phase to test).
 */
const APPLIES_TO: Partial<Record<PlanFaultKind, { what: string; test: (s: Strategy) => boolean; phases?: readonly string[] }>> = {
  'page-server-killed': { what: 'strategies that stream pages to a page server', test: (s) => s.outline(1).some((p) => p.usesPageServer) },
  'nfs-stopped': { what: 'strategies on shared storage', test: (s) => s.storage.needsShare },
  'source-destroyed': { what: 'strategies with a lazy window (post-copy)', test: (s) => hasLazyWindow(s.outline(1)), phases: [LAZY_PAGES_PHASE] },
};

/** The phases a fault of `kind` may aim at, when it is bound to some. */
export function faultOnlyIn(kind: PlanFaultKind): readonly string[] | undefined {
  return APPLIES_TO[kind]?.phases;
}

/** Whether a fault of `kind` means something for `strategy`. */
export function faultAppliesTo(kind: PlanFaultKind, strategy: StrategyName): boolean {
  return APPLIES_TO[kind]?.test(strategyNamed(strategy)) ?? true;
}

export const SOURCE_CLEANUP = 'source cleanup';

export const FaultSpecSchema = Type.Object(
  {
    kind: Type.Union(PLAN_FAULT_KINDS.map((k) => Type.Literal(k))),
    /** A phase name as the records name them ("rootfs copy", "pre-dump 1", "final dump", "restore", …) or "source cleanup". */
    phase: Type.String({ minLength: 1, maxLength: 60 }),
    /** How long after the phase starts (default 0: at its start). */
    afterMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
  },
  { additionalProperties: false },
);
export type FaultSpec = Static<typeof FaultSpecSchema>;
/** A fault the engine's hook puts in (every kind but controller-killed). */
export type InjectedFaultSpec = FaultSpec & { kind: FaultKind };

export function isInjectedFault(spec: FaultSpec): spec is InjectedFaultSpec {
  return spec.kind !== CONTROLLER_KILLED;
}

/** The phases a fault can aim at for one strategy: its phases' names, then source cleanup. */
export function faultPhases(strategy: StrategyName, predumps: number): string[] {
  return [
    ...strategyNamed(strategy)
      .outline(predumps)
      // "final dump (page server)", "pre-dump 1 (copied)": a fault aims at the phase by its plain name.
      .map((p) => p.name.replace(/ \([a-z ]+\)$/, '')),
    SOURCE_CLEANUP,
  ];
}

/** One fault in one phase of one strategy: a case of the fault matrix. */
export interface FaultCase {
  strategy: StrategyName;
  phase: string;
  fault: PlanFaultKind;
}

/** Every fault that means something for each strategy, in every phase it has with `predumps` pre-dumps. */
export function faultCases(strategies: readonly StrategyName[], predumps: number): FaultCase[] {
  return strategies.flatMap((strategy) =>
    faultPhases(strategy, predumps).flatMap((phase) =>
      PLAN_FAULT_KINDS.filter((k) => faultAppliesTo(k, strategy) && (faultOnlyIn(k)?.includes(phase) ?? true)).map((fault) => ({ strategy, phase, fault })),
    ),
  );
}

/** Checks a fault against the strategies it will meet; ConfigError naming `key` and what is allowed. */
export function checkFault(spec: FaultSpec, strategies: readonly StrategyName[], predumps: number, key: string): void {
  const wrong = strategies.filter((s) => !faultAppliesTo(spec.kind, s));
  if (wrong.length) {
    const fits = strategyNames().filter((s) => faultAppliesTo(spec.kind, s));
    throw new ConfigError(
      `${key}.kind: ${spec.kind} applies only to ${APPLIES_TO[spec.kind]!.what} (${fits.join(', ')}), not to ${wrong.join(', ')}`,
      `${key}.kind`,
    );
  }
  const only = faultOnlyIn(spec.kind);
  if (only && !only.some((p) => faultPhaseMatches(spec.phase, p)))
    throw new ConfigError(`${key}.phase: ${spec.kind} aims only at ${only.map((p) => `"${p}"`).join(', ')}, not "${spec.phase}"`, `${key}.phase`);
  for (const s of strategies) {
    const phases = faultPhases(s, predumps);
    if (!phases.some((p) => faultPhaseMatches(spec.phase, p)))
      throw new ConfigError(`${key}.phase: "${spec.phase}" is no phase of ${s} with ${predumps} pre-dumps; its phases: ${phases.join(', ')}`, `${key}.phase`);
  }
}

/** What a kind needs of the testbed, checked before anything is created. */
export function checkFaultTestbed(spec: FaultSpec, inv: Inventory, key: string): void {
  if (spec.kind === 'nfs-stopped' && !inv.nfs)
    throw new ConfigError(`${key}.kind: nfs-stopped needs a testbed with an NFS server (three-vm-nfs)`, `${key}.kind`);
}

/** How long the page-server fault watches for the phase's page server. */
const PAGE_SERVER_WATCH_S = 60;

/** The image directory whose page server a diskless dump phase starts: "pre-dump 2" → pre-2, "final dump" → dump. */
function pageServerIteration(phase: string): string | undefined {
  if (phase === 'final dump') return 'dump';
  const m = /^pre-dump (\d+)$/.exec(phase);
  return m ? `pre-${m[1]}` : undefined;
}

/** The last lines of a VM's serial console log, on one line. */
/** How long a VM started again after a destroy gets to reach its address before one more power cycle. */
const FIRST_BOOT_ADDRESS_MS = 240_000;

/** A readiness failure with the last lines of the VM's console (rewritten at each start): why it did not come back. */
function withConsole(e: Error, consoleLog: string): Error {
  return new Error(`${e.message.split('\n')[0]}; its console ended: ${consoleTail(consoleLog)}`);
}

function consoleTail(path: string, lines = 6): string {
  try {
    const text = readFileSync(path, 'utf8').slice(-4000);
    // Control sequences and carriage returns of the console make no sense in a record.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the escape character is what a control sequence starts with
    const clean = text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/[^\x20-\x7e\n]/g, '');
    const last = clean
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .slice(-lines);
    return last.length ? last.join(' / ') : '(empty)';
  } catch (e) {
    return `(${path} unreadable: ${(e as Error).message})`;
  }
}

const FILL_NAME = '.followme-fault-fill';
/** Filled on the destination: the tmpfs of the images, and the root file system the rootfs is copied into. */
const FILLED = ['/tmp', '/var/lib/lxc'];
const LINK_RULE = (peer: string) => [
  ['INPUT', '-s', peer],
  ['OUTPUT', '-d', peer],
];

/** One fault for one migration, from `from` to `to`. */
export function faultInjector(spec: InjectedFaultSpec, inv: Inventory, from: string, to: string, log: (line: string) => void = () => undefined): FaultHook {
  const node = (name: string): InventoryNode => {
    const n = inv.nodes.find((x) => x.name === name);
    if (!n) throw new ConfigError(`fault: the inventory has no node ${name}`, 'fault');
    return n;
  };
  const source = node(from);
  const dest = node(to);
  const did: string[] = [];
  const healed: string[] = [];
  const errors: string[] = [];
  let injected = false;
  let pending: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let healedOnce = false;

  const onNode = async (n: InventoryNode, argv: string[], timeoutMs = 60_000): Promise<string> =>
    SshConnection.with(sshTarget(inv, n), async (c) => (await c.check(argv, { timeoutMs })).stdout.trim());

  const put = async (edges: { source: Edge; dest: Edge }): Promise<void> => {
    injected = true;
    switch (spec.kind) {
      case 'link-cut':
        for (const [chain, dir, peer] of LINK_RULE(source.ip))
          await onNode(dest, ['iptables', '-w', '-I', chain!, dir!, peer!, '-m', 'comment', '--comment', 'followme-fault', '-j', 'DROP']);
        did.push(`dropped every packet between ${dest.name} and ${source.name} (iptables on ${dest.name})`);
        break;
      case 'dest-destroyed':
      case 'source-destroyed': {
        const vm = spec.kind === 'dest-destroyed' ? dest : source;
        await virsh(vm.libvirtUri, ['destroy', vm.domain]);
        did.push(`destroyed ${vm.name} (virsh destroy ${vm.domain})`);
        break;
      }
      case 'dest-full': {
        // Free blocks, the root-reserved ones included (rsync and CRIU run as root): fallocate takes them, dd the last few.
        const out = await onNode(dest, [
          'sh',
          '-c',
          'for d in "$@"; do f="$d/$0"; fallocate -l $(( $(stat -f -c "%f*%S" "$d") )) "$f" 2>/dev/null || fallocate -l $(( $(stat -f -c "%f*%S" "$d") - 1048576 )) "$f"; dd if=/dev/zero of="$f.tail" bs=4096 2>/dev/null; echo "$d $(stat -f -c "%f" "$d") blocks free"; done',
          FILL_NAME,
          ...FILLED,
        ]);
        did.push(`filled ${FILLED.join(' and ')} on ${dest.name} (${out.split('\n').join(', ')})`);
        break;
      }
      case 'page-server-killed': {
        // The phase starts its page server itself: watch (bounded) for the pid file it writes into the iteration's image
        // directory, and kill it once it is there. Other phases run none: one look.
        const iteration = pageServerIteration(spec.phase);
        const watchS = iteration ? PAGE_SERVER_WATCH_S : 0;
        const out = await onNode(
          dest,
          [
            'sh',
            '-c',
            'end=$(( $(date +%s) + $1 )); while :; do for f in $0; do [ -s "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null && echo "killed $(cat "$f")" && exit 0; done; [ "$(date +%s)" -ge "$end" ] && break; sleep 0.1; done; echo none',
            `${TMPFS_ROOT}/*/${iteration ?? '*'}/page-server.pid`,
            String(watchS),
          ],
          (watchS + 30) * 1000,
        );
        did.push(out === 'none' ? `no page server ran on ${dest.name} during "${spec.phase}"` : `killed the page server on ${dest.name}`);
        break;
      }
      case 'nfs-stopped': {
        const nfs = inv.nodes.find((n) => n.role === 'nfs')!;
        await onNode(nfs, ['systemctl', 'stop', 'nfs-server']);
        did.push(`stopped the NFS server on ${nfs.name}`);
        break;
      }
      case 'ssh-dropped-source':
      case 'ssh-dropped-dest': {
        const edge = spec.kind === 'ssh-dropped-source' ? edges.source : edges.dest;
        edge.ssh.sever('cut by the fault injector');
        did.push(`cut the controller's SSH connection to ${edge.name}`);
        break;
      }
    }
    log(`fault: ${did[did.length - 1]}`);
  };

  const guarded = (edges: { source: Edge; dest: Edge }) =>
    put(edges).catch((e: unknown) => {
      errors.push(`injecting ${spec.kind}: ${(e as Error).message.split('\n')[0]}`);
    });

  const takeAway = async (): Promise<void> => {
    switch (spec.kind) {
      case 'link-cut':
        for (const [chain, dir, peer] of LINK_RULE(source.ip))
          await onNode(dest, ['iptables', '-w', '-D', chain!, dir!, peer!, '-m', 'comment', '--comment', 'followme-fault', '-j', 'DROP']);
        healed.push(`let packets between ${dest.name} and ${source.name} through again`);
        break;
      case 'dest-destroyed':
      case 'source-destroyed': {
        const vm = spec.kind === 'dest-destroyed' ? dest : source;
        await virsh(vm.libvirtUri, ['start', vm.domain]);
        const progress = (line: string) => log(`fault: ${line}`);
        // Under TCG a first boot after the power cut has hung mounting its root file system (its I/O never completed,
        // for minutes): a boot that has not reached its address in its first minutes gets one more power cycle.
        const first = await waitNodeReady(inv, vm, progress, { address: { ...STAGE_LIMITS.address, timeoutMs: FIRST_BOOT_ADDRESS_MS } }).catch(
          (e: unknown) => e as Error,
        );
        if (first instanceof Error) {
          if (!(first instanceof ReadinessTimeoutError && first.stage === 'address')) throw withConsole(first, vm.consoleLog);
          log(
            `fault: ${vm.name} had no address ${FIRST_BOOT_ADDRESS_MS / 1000} s after its start; one more power cycle (its console ended: ${consoleTail(vm.consoleLog)})`,
          );
          await virsh(vm.libvirtUri, ['destroy', vm.domain]);
          await virsh(vm.libvirtUri, ['start', vm.domain]);
          await waitNodeReady(inv, vm, progress).catch((e: unknown) => Promise.reject(withConsole(e as Error, vm.consoleLog)));
          healed.push(`cycled ${vm.name}'s power once more: its first start had no address after ${FIRST_BOOT_ADDRESS_MS / 1000} s`);
        }
        healed.push(`started ${vm.name} again and waited until it was ready`);
        break;
      }
      case 'dest-full':
        await onNode(dest, ['sh', '-c', 'for d in "$@"; do rm -f "$d/$0" "$d/$0.tail"; done', FILL_NAME, ...FILLED]);
        healed.push(`removed the fill from ${FILLED.join(' and ')} on ${dest.name}`);
        break;
      case 'nfs-stopped': {
        const nfs = inv.nodes.find((n) => n.role === 'nfs')!;
        await onNode(nfs, ['systemctl', 'start', 'nfs-server']);
        healed.push(`started the NFS server on ${nfs.name} again`);
        break;
      }
      default:
        // Killed daemons and cut connections stay gone: nothing to undo.
        break;
    }
    if (healed.length) log(`fault healed: ${healed[healed.length - 1]}`);
  };

  return {
    kind: spec.kind,
    phase: spec.phase,
    healBeforeRollback: spec.kind !== 'dest-destroyed' && spec.kind !== 'source-destroyed',
    async inject(edges) {
      if (injected || pending) return;
      // A page server comes up inside the phase: its watcher must not hold the phase up.
      if (spec.kind === 'page-server-killed' && !spec.afterMs) {
        pending = guarded(edges);
        return;
      }
      if (!spec.afterMs) {
        await guarded(edges);
        return;
      }
      pending = new Promise((resolve) => {
        timer = setTimeout(() => void guarded(edges).then(resolve), spec.afterMs);
      });
    },
    async heal() {
      if (healedOnce) return;
      if (timer && !injected) {
        // Its moment had not come: it never goes in.
        clearTimeout(timer);
        timer = undefined;
        pending = undefined;
      }
      await pending;
      if (!injected) return;
      healedOnce = true;
      await takeAway().catch((e: unknown) => {
        errors.push(`healing ${spec.kind}: ${(e as Error).message.split('\n')[0]}`);
      });
    },
    report(): FaultRecord {
      return {
        kind: spec.kind,
        phase: spec.phase,
        ...(spec.afterMs ? { afterMs: spec.afterMs } : {}),
        injected,
        did: [...did],
        healed: [...healed],
        ...(errors.length ? { errors: [...errors] } : {}),
      };
    },
  };
}
