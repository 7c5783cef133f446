// The registry is the only list of strategies: one registered here, in a
// test alone, shows up in the CLI's choices, the record, journal and plan
// schemas, the orphan scan's ids, the fault matrix's cases and the report's
// order; taken out again, it is refused everywhere.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkMigrateFlags } from '../../cli/commands/migrate.js';
import { faultCases } from '../../experiment/faults.js';
import { resolvePlan } from '../../experiment/plan.js';
import { parseMigrationId } from '../../migration/engine/recover-orphans.js';
import type { Strategy } from '../../migration/engine/types.js';
import { Journal } from '../../migration/journal.js';
import { validateRecord } from '../../migration/record/validate.js';
import { registerStrategy, strategyNamed, strategyNames } from '../../migration/strategies/index.js';
import { strategiesOn } from '../integration/fault-matrix.js';
import { writeJson } from '../harness/recording-ssh-server.js';
import { scratchDir } from '../scratch.js';
import { record } from './fixtures-record.js';
import { scriptedTestbed } from './scripted-edge.js';

const testOnly: Strategy = { ...strategyNamed('tmpfs'), name: 'testonly', summary: 'registered by a unit test' };
const plan = { planVersion: 1, name: 'p', strategies: ['testonly'], workloads: [{ name: 'blank' }], profiles: ['gigabit'] };

describe('a strategy registered in a test alone', () => {
  let unregister: () => void = () => undefined;
  beforeEach(() => {
    unregister = registerStrategy(testOnly);
  });
  afterEach(() => unregister());

  it('is a CLI choice of migrate', () => {
    const inventory = writeJson(scratchDir('fm-registry-'), 'inventory.json', scriptedTestbed().inventory);
    const flags = { inventory, strategy: 'testonly', container: 'c1', from: 'edge-a', to: 'edge-b', predumps: '1', out: 'migrations.jsonl' };
    expect(checkMigrateFlags(flags).strategy).toBe('testonly');
    expect(() => checkMigrateFlags({ ...flags, strategy: 'teleport' })).toThrow(
      '--strategy: unknown value "teleport"; allowed: tmpfs, diskless, shared, adaptive, lean, sharedlean, postcopy, hybrid, testonly',
    );
  });

  it('is a strategy of the record, journal and plan schemas', () => {
    expect(validateRecord(record({ strategy: 'testonly', id: '20261126T101609Z-testonly-c1-356081' })).strategy).toBe('testonly');
    expect(resolvePlan(plan).strategies).toEqual(['testonly']);
    const journal = Journal.open(scratchDir('fm-registry-journal-'), {
      id: '20261126T101609Z-testonly-c1-356081',
      strategy: 'testonly',
      testbed: 'fmtwo',
      container: 'c1',
      from: 'edge-a',
      to: 'edge-b',
      predumps: 1,
      lxcDir: '/var/lib/lxc/c1',
      workDir: '/tmp/followme-migrations/x',
      ports: { receiver: 20000, pageServer: 30000 },
      startedAt: new Date().toISOString(),
    });
    journal.close();
  });

  it('is in the orphan scan, the report order and the fault matrix', () => {
    expect(parseMigrationId('20261126T101609Z-testonly-c1-356081')).toEqual({ strategy: 'testonly', container: 'c1' });
    expect(strategyNames().at(-1)).toBe('testonly');
    expect(strategiesOn('twoVmInventory')).toContain('testonly');
    const cases = faultCases(['testonly'], 1);
    expect(new Set(cases.map((c) => c.phase))).toEqual(
      new Set(['rootfs copy', 'pre-dump 1', 'pre-dump 1 copy', 'final dump', 'final copy', 'restore', 'source cleanup']),
    );
    expect(cases.some((c) => c.fault === 'page-server-killed' || c.fault === 'nfs-stopped')).toBe(false);
  });
});

describe('a strategy taken out of the registry', () => {
  it('is refused by every schema, naming what is allowed', () => {
    registerStrategy(testOnly)();
    expect(() => validateRecord(record({ strategy: 'testonly' }))).toThrow(
      /\.strategy = "testonly": must be one of tmpfs, diskless, shared, adaptive, lean, sharedlean/,
    );
    expect(() => resolvePlan(plan)).toThrow(/plan\.strategies\[0\] = "testonly": must be one of tmpfs, diskless, shared, adaptive, lean, sharedlean/);
    expect(parseMigrationId('20261126T101609Z-testonly-c1-356081')).toBeUndefined();
  });

  it('refuses a name that cannot be part of a migration id, and a name twice', () => {
    expect(() => registerStrategy({ ...testOnly, name: 'has-dash' })).toThrow(/lower-case letters and digits/);
    expect(() => registerStrategy({ ...testOnly, name: 'tmpfs' })).toThrow('strategy tmpfs is registered twice');
  });
});
