// adaptive: pre-copy that decides its own rounds. The rootfs is rsynced while
// the container runs; then pre-dump rounds stream pages to a page server on
// the destination (as diskless does), each round's CRIU statistics read right
// after it, until the stop rule (stop-rule.ts) says the final dump will be
// small or the rounds stop paying; then the final dump, the last images and
// rootfs changes, and the restore. The final dump's phase says which rule
// stopped the rounds, with the numbers.
import type { History, Phase, StepDone, Strategy } from '../engine/types.js';
import type { PhaseDecision } from '../record/schema.js';
import { copied } from '../storage/copied.js';
import { imagesCopy, pageServerDump, restoreOnDestination, rootfsCopy } from './steps.js';
import { PRE_COPY_LIMITS, type PreCopyLimits, type PreCopyRound, stopPreCopy } from './stop-rule.js';

function round(step: StepDone): PreCopyRound | undefined {
  if (!step.stats) return undefined;
  return {
    pages: step.stats.pagesWritten,
    transferMs: (step.stats.memdumpTimeUs + step.stats.memwriteTimeUs) / 1000,
    durationMs: step.durationMs,
    ...(step.roomBytes !== undefined ? { roomBytes: step.roomBytes } : {}),
  };
}

/** After a pre-dump: stop the rounds (the final dump comes next) or do round `round`, and why, from the rounds' statistics. */
function nextRound(h: History, limits: PreCopyLimits): { stop: boolean; round: number; decision: PhaseDecision } {
  const rounds = h.steps.filter((s) => s.kind === 'pre-dump');
  const d = stopPreCopy(rounds.map(round), limits);
  return d.stop
    ? { stop: true, round: rounds.length, decision: { rule: d.rule, detail: d.detail } }
    : { stop: false, round: rounds.length + 1, decision: { rule: 'continue', detail: d.detail } };
}

/** The phases of a strategy that measures its rounds: the first (the rootfs copy), each round, the final dump, and what follows it. */
export interface MeasuredRounds {
  first: () => Phase;
  round: (i: number) => Phase;
  final: () => Phase;
  /** The phases after the final dump, in order. */
  after: () => Phase[];
  limits?: PreCopyLimits;
}

/**
 * A strategy's phases chosen from its rounds: the first phase, then rounds
 * until the stop rule holds (the final dump says which rule stopped them),
 * then the final dump and the phases after it.
 */
export function measuredRounds(p: MeasuredRounds): Pick<Strategy, 'next' | 'outline' | 'maxPreDumps' | 'measuresRounds'> {
  const limits = p.limits ?? PRE_COPY_LIMITS;
  return {
    outline: (preDumps) => [p.first(), ...Array.from({ length: preDumps }, (_, i) => p.round(i + 1)), p.final(), ...p.after()],
    // It decides its rounds: --predumps does not bound them, the stop rule's round limit does.
    maxPreDumps: () => limits.maxRounds,
    measuresRounds: true,
    next(h) {
      const last = h.steps.at(-1);
      if (!last) return p.first();
      if (last.kind === 'rootfs-copy') return p.round(1);
      if (last.kind === 'pre-dump') {
        const r = nextRound(h, limits);
        return { ...(r.stop ? p.final() : p.round(r.round)), decision: r.decision };
      }
      // After the final dump: its followers in turn, then nothing.
      return p.after()[h.steps.length - 1 - h.steps.findIndex((x) => x.kind === 'final-dump')];
    },
  };
}

export const adaptive: Strategy = {
  name: 'adaptive',
  summary: 'rsync rootfs, pre-dump rounds to a page server until the stop rule holds, final dump, restore',
  storage: copied,
  criuFeatures: ['mem_dirty_track'],
  pointOfNoReturn: 'restore',
  finalPagesOn: 'destination',
  ...measuredRounds({
    first: () => rootfsCopy(),
    round: (i) => pageServerDump(i),
    final: () => pageServerDump('dump'),
    after: () => [imagesCopy('dump'), restoreOnDestination()],
  }),
};
