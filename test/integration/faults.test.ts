// For every strategy, the controller killed with SIGKILL in one phase (then
// `followme recover`) and one fault from the freeze on, and one fault in a
// source cleanup, on the shared testbeds: the cases of the fault matrix
// `npm test` runs (the whole matrix, every kind in every phase, is
// `npm run test:faults`). Each case checks the promise: the container runs
// in exactly one place with its count going on, nothing of the migration or
// the fault is left, the record (or the journal) names the fault, the phase
// and the outcome. The next migration is the next case's (which must get
// through every phase before its own fault), and after the last case a
// plain one that must succeed: a migration after every case (or after each
// strategy's last), as the whole matrix makes, would not fit the CI budget.
// The table is printed at the end.
import { afterAll, describe, expect, it } from 'vitest';
import { strategyNames } from '../../migration/strategies/index.js';
import { faultPhases } from '../../experiment/faults.js';
import { type MatrixRow, faultMatrix, FAULTS_IN_NPM_TEST, printMatrix, strategiesOn } from './fault-matrix.js';

const rows: MatrixRow[] = [];
afterAll(() => printMatrix('Faults in npm test', rows));

it('kills the controller once in every registered strategy, and aims one more fault at it from the freeze on', () => {
  for (const strategy of strategyNames()) {
    const mine = FAULTS_IN_NPM_TEST.filter((c) => c.strategy === strategy);
    expect(
      mine.filter((c) => c.fault === 'controller-killed'),
      strategy,
    ).toHaveLength(1);
    const phases = faultPhases(strategy, 1);
    const fromFreeze = phases.indexOf('final dump');
    expect(
      mine.some((c) => c.fault !== 'controller-killed' && phases.indexOf(c.phase) >= fromFreeze),
      strategy,
    ).toBe(true);
  }
});

describe('faults in each strategy on copied storage (two-vm)', () => {
  const here = strategiesOn('twoVmInventory');
  faultMatrix(
    'twoVmInventory',
    'flt2',
    FAULTS_IN_NPM_TEST.filter((c) => here.includes(c.strategy)),
    rows,
    'after the last case',
  );
});

describe('faults in each strategy on shared storage (corridor)', () => {
  const here = strategiesOn('corridorInventory');
  faultMatrix(
    'corridorInventory',
    'flt3',
    FAULTS_IN_NPM_TEST.filter((c) => here.includes(c.strategy)),
    rows,
    'after the last case',
  );
});
