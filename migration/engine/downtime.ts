// Downtime as the paper defines it: from the moment the final dump freezes
// the container to the container running on the destination. The final-dump
// phase may do things before the freeze (diskless starts a page server
// first) and a retried dump ran the container again between attempts, so
// the window starts inside the CRIU dump that succeeded, not at the phase.
import type { CommandTiming, PhaseRecord } from '../record/schema.js';
import type { DumpStats } from '../criu/stats.js';

/** The command that froze the container for good: the last `criu dump` of the final-dump phase that exited 0. */
export function freezingCommand(phases: readonly PhaseRecord[]): CommandTiming | undefined {
  const finalDump = phases.find((p) => p.kind === 'final-dump');
  return finalDump?.commands.filter((c) => c.kind === 'criu-dump' && c.exitCode === 0).at(-1);
}

/** When a command began on its node, on the controller's clock: sent at `startMs`, after half its SSH overhead. */
function startedOnNode(startMs: number, c: CommandTiming): number {
  return startMs + Math.max(0, c.wallMs - c.remoteMs) / 2;
}

/**
 * When the freeze began, as an offset from the migration's start on the
 * controller's clock. The dump command was sent at `startMs`; it ran on the
 * source from half its SSH overhead (wall time on the controller less its
 * time on the node) later, for `remoteMs`. CRIU's own statistics of that
 * dump say how long the tasks were frozen until it ended (`frozenTimeUs`)
 * and how long freezing them took (`freezingTimeUs`): the freeze began that
 * long before the command ended. Without them, the command's start is taken
 * (an upper bound of the downtime: under TCG CRIU spends 0.4 to 0.7 s before
 * it freezes). The nodes' clocks are not the controller's, so only durations
 * are taken from the node. Undefined when no dump was timed.
 */
export function freezeAtMs(phases: readonly PhaseRecord[], finalDumpStats?: Pick<DumpStats, 'frozenTimeUs' | 'freezingTimeUs'>): number | undefined {
  const c = freezingCommand(phases);
  if (c?.startMs === undefined) return undefined;
  const started = startedOnNode(c.startMs, c);
  if (!finalDumpStats) return started;
  const frozenMs = (finalDumpStats.frozenTimeUs + finalDumpStats.freezingTimeUs) / 1000;
  return Math.max(started, started + c.remoteMs - frozenMs);
}

/** The remote command time inside the downtime window: the freezing dump's part after `fromMs`, and every command sent after it. */
export function remoteMsFrom(phases: readonly PhaseRecord[], fromMs: number): number {
  const freezer = freezingCommand(phases);
  return phases
    .flatMap((p) => p.commands)
    .reduce((sum, c) => {
      if (c === freezer && c.startMs !== undefined) {
        const endOnNode = startedOnNode(c.startMs, c) + c.remoteMs;
        return sum + Math.min(c.remoteMs, Math.max(0, endOnNode - fromMs));
      }
      return c.startMs !== undefined && c.startMs >= fromMs ? sum + c.remoteMs : sum;
    }, 0);
}

/** When a lazy dump that ran `ranMs` on its node ended (its last page served), on the controller's clock; undefined when it was not timed. */
export function lazyDumpEndMs(phases: readonly PhaseRecord[], ranMs: number): number | undefined {
  const c = freezingCommand(phases);
  return c?.startMs === undefined ? undefined : startedOnNode(c.startMs, c) + ranMs;
}
