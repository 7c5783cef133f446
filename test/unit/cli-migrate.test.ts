import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendRecord, logEvent } from '../../cli/commands/migrate.js';
import { wholeNumber } from '../../cli/flags.js';
import { validateRecord } from '../../migration/record/validate.js';
import { record } from './fixtures-record.js';
import { scratchDir } from '../scratch.js';

describe('followme migrate (pure parts)', () => {
  it('takes --predumps as a whole number and names the flag otherwise', () => {
    expect(wholeNumber('predumps', '3', 0, 20)).toBe(3);
    expect(() => wholeNumber('predumps', 'two', 0, 20)).toThrow('--predumps: must be a whole number from 0 to 20, got "two"');
    expect(() => wholeNumber('predumps', '99999', 0, 20)).toThrow('--predumps: must be a whole number from 0 to 20, got "99999"');
  });

  it('prints a line per phase as it starts and ends, and the rollback', () => {
    const lines: string[] = [];
    const say = (l: string) => lines.push(l);
    logEvent({ type: 'phase-start', name: 'final dump', kind: 'final-dump' }, say);
    logEvent({ type: 'phase-end', phase: record().phases[3]! }, say);
    logEvent({ type: 'rollback-start', phase: 'restore', error: 'edge-b: restore failed\nmore' }, say);
    logEvent({ type: 'rollback-end', outcome: 'rolled-back', detail: 'container c1 running on edge-a again' }, say);
    expect(lines).toEqual([
      'final dump …',
      'final dump: 2.00 s (commands 1.99 s)',
      'phase "restore" failed: edge-b: restore failed; rolling back',
      'rollback: rolled-back: container c1 running on edge-a again',
    ]);
  });

  it('appends one JSON line per record, each valid on its own', () => {
    const file = join(scratchDir('followme-unit-'), 'sub', 'migrations.jsonl');
    appendRecord(file, record());
    appendRecord(file, record({ strategy: 'diskless' }));
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.map((l) => validateRecord(JSON.parse(l)).strategy)).toEqual(['tmpfs', 'diskless']);
  });
});
