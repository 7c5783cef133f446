// `npm run test:faults`: the whole fault matrix (fault × phase × strategy),
// on the two shared testbeds, printed as a table at the end. Hours under TCG;
// FOLLOWME_FAULTS_ONLY=word[,word…] keeps the cases whose strategy, phase or
// fault contains one of the words (e.g. "tmpfs" or "link-cut,final dump").
import { afterAll, describe } from 'vitest';
import { allCases, type FaultCase, faultMatrix, type MatrixRow, printMatrix } from '../integration/fault-matrix.js';

const only = (process.env['FOLLOWME_FAULTS_ONLY'] ?? '')
  .split(',')
  .map((w) => w.trim())
  .filter(Boolean);
const chosen = (cases: FaultCase[]) => (only.length ? cases.filter((c) => only.some((w) => `${c.strategy} ${c.phase} ${c.fault}`.includes(w))) : cases);

const rows: MatrixRow[] = [];
afterAll(() => printMatrix('Fault matrix', rows));

describe('fault matrix on two-vm', () => {
  faultMatrix('twoVmInventory', 'flt2', chosen(allCases(['tmpfs', 'diskless'])), rows);
});

describe('fault matrix on three-vm-nfs', () => {
  faultMatrix('threeVmNfsInventory', 'flt3', chosen(allCases(['shared'])), rows);
});
