// One fault in every phase of every strategy (once where two strategies
// run the same steps: SAME_STEPS_AS), and the controller killed with
// SIGKILL once per strategy (then `followme recover`), on the shared
// testbeds: the cases of the fault matrix `npm test` runs (the whole matrix
// is `npm run test:faults`). Each case checks the promise: the container runs
// in exactly one place with its count going on, nothing of the migration or
// the fault is left, the record (or the journal) names the fault, the phase
// and the outcome. The next migration is the next case's (which must get
// through every phase before its own fault), and after each strategy's last
// case a plain one that must succeed: a migration after every case, as the
// whole matrix makes, would not fit the CI budget. The table is printed at
// the end.
import { afterAll, describe, expect, it } from 'vitest';
import { strategyNames } from '../../migration/strategies/index.js';
import { type MatrixRow, faultMatrix, ONE_FAULT_PER_PHASE, phasesWithoutFault, printMatrix, SAME_STEPS_AS, strategiesOn } from './fault-matrix.js';

const rows: MatrixRow[] = [];
afterAll(() => printMatrix('Faults, one per phase per strategy', rows));

it('aims a fault at every phase of every registered strategy (once where two run the same steps), and kills the controller once in each', () => {
  for (const strategy of strategyNames()) {
    const same = SAME_STEPS_AS.filter((x) => x.strategy === strategy);
    expect(phasesWithoutFault(ONE_FAULT_PER_PHASE, strategy), strategy).toEqual(same.map((x) => x.phase));
    for (const x of same) expect(phasesWithoutFault(ONE_FAULT_PER_PHASE, x.as), `${strategy}'s ${x.phase} as ${x.as}'s`).not.toContain(x.phase);
    expect(
      ONE_FAULT_PER_PHASE.filter((c) => c.strategy === strategy && c.fault === 'controller-killed'),
      strategy,
    ).toHaveLength(1);
  }
});

describe('a fault in every phase of each strategy on copied storage (two-vm)', () => {
  const here = strategiesOn('twoVmInventory');
  faultMatrix(
    'twoVmInventory',
    'flt2',
    ONE_FAULT_PER_PHASE.filter((c) => here.includes(c.strategy)),
    rows,
    'after each strategy',
  );
});

describe('a fault in every phase of each strategy on shared storage (corridor)', () => {
  const here = strategiesOn('corridorInventory');
  faultMatrix(
    'corridorInventory',
    'flt3',
    ONE_FAULT_PER_PHASE.filter((c) => here.includes(c.strategy)),
    rows,
    'after each strategy',
  );
});
