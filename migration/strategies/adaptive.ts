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
  };
}

/** After a pre-dump: stop the rounds (the final dump comes next) or do round `round`, and why, from the rounds' statistics. */
export function nextRound(h: History, limits: PreCopyLimits = PRE_COPY_LIMITS): { stop: boolean; round: number; decision: PhaseDecision } {
  const rounds = h.steps.filter((s) => s.kind === 'pre-dump');
  const d = stopPreCopy(rounds.map(round), limits);
  return d.stop
    ? { stop: true, round: rounds.length, decision: { rule: d.rule, detail: d.detail } }
    : { stop: false, round: rounds.length + 1, decision: { rule: 'continue', detail: d.detail } };
}

function outline(preDumps: number): Phase[] {
  const phases: Phase[] = [rootfsCopy()];
  for (let i = 1; i <= preDumps; i++) phases.push(pageServerDump(i));
  phases.push(pageServerDump('dump'), imagesCopy('dump'), restoreOnDestination());
  return phases;
}

function next(h: History): Phase | undefined {
  const last = h.steps.at(-1);
  switch (last?.kind) {
    case undefined:
      return rootfsCopy();
    case 'rootfs-copy':
      return pageServerDump(1);
    case 'pre-dump': {
      const r = nextRound(h);
      return r.stop ? { ...pageServerDump('dump'), decision: r.decision } : { ...pageServerDump(r.round), decision: r.decision };
    }
    case 'final-dump':
      return imagesCopy('dump');
    case 'final-copy':
      return restoreOnDestination();
    default:
      return undefined;
  }
}

export const adaptive: Strategy = {
  name: 'adaptive',
  summary: 'rsync rootfs, pre-dump rounds to a page server until the stop rule holds, final dump, restore',
  storage: copied,
  criuFeatures: ['mem_dirty_track'],
  pointOfNoReturn: 'restore',
  finalPagesOn: 'destination',
  // It decides its rounds: --predumps does not bound them, the stop rule's round limit does.
  maxPreDumps: () => PRE_COPY_LIMITS.maxRounds,
  measuresRounds: true,
  next,
  outline,
};
