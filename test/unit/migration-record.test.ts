import { describe, expect, it } from 'vitest';
import { record } from './fixtures-record.js';
import { validateRecord, recordProblems } from '../../migration/record/validate.js';
import { formatResultsTable, formatSummary, formatBytes } from '../../migration/record/summary.js';

describe('migration record', () => {
  it('accepts a sound record', () => {
    expect(validateRecord(record())).toBeTruthy();
  });

  it('names the field the schema rejects', () => {
    expect(() => validateRecord({ ...record(), strategy: 'teleport' })).toThrow(/record\.strategy = "teleport"/);
    expect(() => validateRecord({ ...record(), surprise: 1 })).toThrow(/record\.surprise: unknown key "surprise"/);
    expect(() => validateRecord({ ...record(), startedAt: 'yesterday' })).toThrow(/record\.startedAt = "yesterday": must match format "date-time"/);
  });

  it('requires phase times to add up to the total within 5%', () => {
    expect(recordProblems(record({ totalMs: 15700 }))).toEqual([]);
    expect(recordProblems(record({ totalMs: 16000 }))[0]).toMatch(/phase times add up to 15000.0 ms, not within 5% of the total 16000.0 ms/);
  });

  it('requires an error on a record that did not migrate, and none on one that did', () => {
    expect(recordProblems(record({ outcome: 'rolled-back' }))).toContain('outcome "rolled-back" needs an error');
    const failed = record({ outcome: 'rolled-back', error: { phase: 'restore', message: 'boom', rollback: 'restored on edge-a' } });
    expect(recordProblems(failed)).toEqual([]);
    expect(recordProblems({ ...failed, outcome: 'migrated' })).toContain('a migrated record carries an error');
  });

  it('formats a summary and a results table from records alone', () => {
    const s = formatSummary(record());
    expect(s).toContain('tmpfs, c1 edge-a → edge-b, 1 pre-dumps: migrated');
    expect(s).toContain('total Ψ 15.00 s, downtime 5200 ms, pages in last dump 38, moved 190.7 MB');
    expect(s).toMatch(/final dump\s+2\.00 s/);
    const t = formatResultsTable([record(), record({ strategy: 'diskless', from: 'edge-b', to: 'edge-a' })]);
    expect(t.split('\n')).toHaveLength(4);
    expect(t).toMatch(/^diskless\s+edge-b→edge-a\s+migrated\s+5200 ms\s+15\.00 s\s+38/m);
    expect(formatBytes(999)).toBe('999 B');
  });
});
