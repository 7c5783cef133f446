import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendRecord, logEvent, parsePredumps } from '../../cli/commands/migrate.js';
import { validateRecord } from '../../migration/record/validate.js';
import { record } from './fixtures-record.js';
import { scratchDir } from '../scratch.js';

describe('followme migrate (pure parts)', () => {
  it('takes --predumps as a whole number and names the flag otherwise', () => {
    expect(parsePredumps(undefined)).toBeUndefined();
    expect(parsePredumps('3')).toBe(3);
    expect(() => parsePredumps('two')).toThrow('--predumps: must be a whole number, got "two"');
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
