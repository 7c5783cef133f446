// `npm run test:faults`: the whole fault matrix (fault × phase × strategy),
// on the two shared testbeds, printed as a table at the end, and the plain
// migrations (no fault) of the tcp torture by every strategy. Hours under
// TCG; FOLLOWME_FAULTS_ONLY=word[,word…] keeps the cases whose strategy,
// phase or fault contains one of the words (e.g. "tmpfs" or "link-cut,final
// dump"; "plain" for the plain migrations alone).
import { afterAll, describe, it } from 'vitest';
import { removeContainers } from '../../experiment/containers.js';
import { followmeIdentity } from '../../experiment/manifest.js';
import type { StrategyName } from '../../migration/record/schema.js';
import { allCases, type FaultCase, faultMatrix, type MatrixRow, printMatrix, strategiesOn } from '../integration/fault-matrix.js';
import { moveWithStreams, STREAM_SUBJECTS, streamContainers } from '../integration/stream-moves.js';

const only = (process.env['FOLLOWME_FAULTS_ONLY'] ?? '')
  .split(',')
  .map((w) => w.trim())
  .filter(Boolean);
const chosen = (cases: FaultCase[]) => (only.length ? cases.filter((c) => only.some((w) => `${c.strategy} ${c.phase} ${c.fault}`.includes(w))) : cases);

const rows: MatrixRow[] = [];
// Titled with what ran, on which commit and when: tables of parts of the matrix run apart can be put together.
afterAll(async () => {
  const { commit } = await followmeIdentity();
  printMatrix(
    `Fault matrix (${only.length ? `cases with ${only.map((w) => `"${w}"`).join(' or ')}` : 'every case'}; followme ${commit.slice(0, 12)}${commit.endsWith('+changes') ? ' with changes' : ''}; ${new Date().toISOString().slice(0, 16)}Z)`,
    rows,
  );
});

// A stack none of the chosen cases runs on gets no suite (vitest fails an empty one).
const onTwoVm = chosen(allCases(strategiesOn('twoVmInventory')));
const onCorridor = chosen(allCases(strategiesOn('corridorInventory')));

if (onTwoVm.length)
  describe('fault matrix on two-vm', () => {
    faultMatrix('twoVmInventory', 'flt2', onTwoVm, rows);
  });

if (onCorridor.length)
  describe('fault matrix on the corridor', () => {
    faultMatrix('corridorInventory', 'flt3', onCorridor, rows);
  });

// Plain migrations: the tcp torture's two full streams, checked at both ends, through a move there and back by each
// strategy (issue #20).
function plainTcpTorture(stack: 'twoVmInventory' | 'corridorInventory', strategies: readonly StrategyName[]) {
  const suite = streamContainers(stack, strategies);
  for (const strategy of strategies) {
    it(`plain ${strategy} there and back with the tcp torture: both ends check every byte, no reset`, async () => {
      const c = suite.container(`plain-tcp-${strategy}`, 'tcp', 2);
      await moveWithStreams(suite.inv(), c, STREAM_SUBJECTS.tcp, [strategy, strategy]);
      await removeContainers(suite.inv(), [c]);
    });
  }
}

if (!only.length || only.some((w) => 'plain tcp'.includes(w))) {
  describe('plain migrations with the tcp torture on two-vm', () => {
    plainTcpTorture('twoVmInventory', strategiesOn('twoVmInventory'));
  });
  describe('plain migrations with the tcp torture on the corridor', () => {
    plainTcpTorture('corridorInventory', strategiesOn('corridorInventory'));
  });
}
