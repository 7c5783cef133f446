// The report built from a real results directory (test/fixtures/results/:
// plans/smoke.yaml run on the TCG three-vm-nfs testbed), checked against the
// runs themselves: every row, every statistic recomputed from runs.csv.
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../common/paths.js';
import { buildReport } from '../../experiment/report/build.js';
import { readRuns } from '../../experiment/results.js';
import { t975 } from '../../experiment/stats.js';
import { cli, STACK_TRACE } from '../cli-run.js';
import { scratchDir } from '../scratch.js';

const fixture = join(projectRoot(), 'test/fixtures/results');
let out: string;
let rows: Record<string, string>[];

beforeAll(async () => {
  // For the whole file (scratchDir() is per test).
  out = mkdtempSync(join(tmpdir(), 'followme-report-'));
  await buildReport(fixture, out);
  rows = parse(readFileSync(join(out, 'runs.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
}, 60_000);
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('the report of a real smoke run', () => {
  it('has one runs.csv row per run, with the columns the issue names', () => {
    const { runs } = readRuns(fixture);
    expect(rows).toHaveLength(runs.length);
    for (const col of ['strategy', 'workload', 'profile', 'outcome', 'downtime_ms', 'service_downtime_ms', 'total_ms', 'last_dump_pages']) {
      expect(Object.keys(rows[0]!)).toContain(col);
    }
    expect(rows.map((r) => r['key'])).toEqual(runs.map((r) => r.key));
  });

  it('summary.json: each entry recomputed from runs.csv (sample sd, t-based CI half-width)', () => {
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Record<string, number | string | null>[];
    expect(summary.length).toBeGreaterThan(0);
    for (const e of summary) {
      expect(Object.keys(e).sort()).toEqual(['ci95', 'cv', 'max', 'mean', 'median', 'metric', 'min', 'n', 'profile', 'sd', 'strategy', 'workload']);
      const xs = rows
        .filter((r) => r['strategy'] === e['strategy'] && r['workload'] === e['workload'] && r['profile'] === e['profile'] && r['outcome'] === 'migrated')
        .map((r) => r[e['metric'] as string])
        .filter((v): v is string => v !== undefined && v !== '')
        .map(Number);
      expect(xs.length, `${e['metric']}`).toBe(e['n']);
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(e['mean']).toBeCloseTo(mean, 6);
      if (xs.length >= 2) {
        const sd = Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1));
        expect(e['sd']).toBeCloseTo(sd, 6);
        expect(e['ci95']).toBeCloseTo((t975(xs.length - 1) * sd) / Math.sqrt(xs.length), 6);
      }
      expect(e['min']).toBe(Math.min(...xs));
      expect(e['max']).toBe(Math.max(...xs));
    }
  });

  it("holds Table II beside the paper's, the figures table, the shape findings and every chart", () => {
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('## Table II: pages copied during the last dump');
    expect(md).toMatch(/\| blank, tmpfs \| 2 \| [\d.]+ \| [\d.]+ \| [\d.]+ \| 509\.5 \| 6\.30 \| 5\.14 \|/);
    expect(md).toMatch(/\| video, diskless \| 2 \| [\d.]+ \| [\d.]+ \| [\d.]+ \| 5100\.2 \| 12\.52 \| 10\.20 \|/);
    expect(md).toContain('## Every figure the paper reports, beside ours');
    expect(md).toMatch(/\| downtime \(ms\) \| blank \| tmpfs \| 1043\.0 ± 39\.8 \| [\d.]+ ± [\d.]+ \(2\) \| [\d.]+× \| IV\.A \|/);
    expect(md).toMatch(/Pages in the last dump, blank: disk-less copies [\d.]+× the pages of tmpfs \(paper: 3\.49× with CRIU 2\.6\)/);
    expect(md).toMatch(/QEMU TCG/);
    const svgs = readdirSync(out).filter((f) => f.endsWith('.svg'));
    expect(svgs.sort()).toEqual([
      'downtime-gigabit.svg',
      'final-iteration-gigabit.svg',
      'phases-diskless-gigabit.svg',
      'phases-shared-gigabit.svg',
      'phases-tmpfs-gigabit.svg',
      'total-time-gigabit.svg',
    ]);
    for (const s of svgs) expect(md).toContain(`](${s})`);
  });

  it('report.html is one self-contained page: the charts inline, nothing fetched', () => {
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect((html.match(/<svg/g) ?? []).length).toBe(6);
    expect(html).not.toMatch(/<script|<link|src="http|href="http/);
  });
});

describe('followme report refuses what is not a results directory (exit 2, nothing written)', () => {
  it('a directory without a manifest', async () => {
    const d = scratchDir('fm-rep-');
    const r = await cli(['report', d]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no manifest\.json/);
    expect(readdirSync(d)).toEqual([]);
  });

  it('a runs.jsonl line that is not a run names the file, the line and the key', async () => {
    const d = scratchDir('fm-rep-');
    cpSync(fixture, d, { recursive: true });
    const lines = readFileSync(join(d, 'runs.jsonl'), 'utf8').split('\n');
    lines[1] = lines[1]!.replace('"outcome":"migrated"', '"outcome":"teleported"');
    writeFileSync(join(d, 'runs.jsonl'), lines.join('\n'));
    const r = await cli(['report', d, '--out', join(d, 'out')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/runs\.jsonl:2: not a run record:\n.*run\.outcome/);
    expect(r.err).not.toMatch(STACK_TRACE);
  });

  it('a manifest that is not JSON', async () => {
    const d = scratchDir('fm-rep-');
    writeFileSync(join(d, 'manifest.json'), '{"manifestVersion": 1,');
    const r = await cli(['report', d]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/manifest\.json: not valid JSON \(line 1, column 23\)/);
  });
});
