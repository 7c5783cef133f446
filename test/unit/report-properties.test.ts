// Property tests (fast-check) of `followme report` on hostile results
// directories: run records with hostile strings in any field (path
// separators, `..`, NUL, control characters, 10 kB strings, HTML) and links
// already in the output directory. Whatever they hold, report exits 0 or 2,
// prints no stack trace, writes only inside its output directory, follows
// no link, and leaves no half-written file.
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../common/paths.js';
import { cli, STACK_TRACE } from '../cli-run.js';

const fixture = join(projectRoot(), 'test/fixtures/results');
const lines = readFileSync(join(fixture, 'runs.jsonl'), 'utf8').split('\n').filter(Boolean);
const manifest = readFileSync(join(fixture, 'manifest.json'), 'utf8');
const MARKER = `fm-prop-${process.pid}`;

let base: string;
beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'followme-report-props-'));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** Every leaf of a JSON value, as a path of keys. */
function leafPaths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (v === null || typeof v !== 'object') return [at];
  const entries = Array.isArray(v) ? v.map((x, i) => [i, x] as const) : Object.entries(v);
  return entries.flatMap(([k, x]) => leafPaths(x, [...at, k]));
}

function setAt(v: unknown, path: readonly (string | number)[], value: unknown): void {
  let o = v as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  o[path.at(-1)!] = value;
}

/** Each line's leaves: a hostile value goes into a field that line has. */
const FIELDS = lines.map((l) => leafPaths(JSON.parse(l)));

const FRAGMENTS = [
  '/',
  '../',
  '..',
  `/../../../../tmp/${MARKER}`,
  '\u0000',
  '\n',
  '\r\n',
  '\u001b[31m',
  '\u2028',
  '<script>alert(1)</script>',
  '<img src=x onerror=alert(1)>',
  '=HYPERLINK("http://x")',
  '|',
  '`',
  '"',
  '**',
  'gigabit',
  'a',
];
const short = fc.array(fc.constantFrom(...FRAGMENTS), { minLength: 1, maxLength: 6 }).map((parts) => parts.join(''));
const hostileString = fc.oneof(
  short,
  fc.string({ unit: 'binary', maxLength: 40 }),
  short.map((s) => s.repeat(Math.ceil(10_000 / s.length)).slice(0, 10_000)),
);

const REPORT_NAMES = ['runs.csv', 'summary.json', 'report.md', 'report.html', 'total-time-gigabit.svg', 'downtime-gigabit.svg', 'phases-tmpfs-gigabit.svg'];
type LinkKind = 'none' | 'to-victim-file' | 'to-victim-dir' | 'dangling';
const links = fc.record(Object.fromEntries(REPORT_NAMES.map((n) => [n, fc.constantFrom<LinkKind>('none', 'to-victim-file', 'to-victim-dir', 'dangling')])));

/** Every path under `dir` (links not followed) with what it is: the bytes of a file, a link's target. */
function snapshot(dir: string, skip: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (p === skip) continue;
      const st = lstatSync(p);
      const rel = relative(dir, p);
      if (st.isSymbolicLink()) out.set(rel, `link → ${readlinkSync(p)}`);
      else if (st.isDirectory()) {
        out.set(rel, 'dir');
        walk(p);
      } else out.set(rel, readFileSync(p, 'latin1'));
    }
  };
  walk(dir);
  return out;
}

describe('report on hostile results directories', () => {
  it('exits 0 or 2, writes only inside --out, follows no link, leaves no partial file', async () => {
    let n = 0;
    const exits = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc
          .nat(lines.length - 1)
          .chain((line) => fc.tuple(fc.constant(line), fc.array(fc.tuple(fc.constantFrom(...FIELDS[line]!), hostileString), { minLength: 1, maxLength: 3 }))),
        links,
        fc.boolean(),
        async ([line, edits], linkKinds, outIsLink) => {
          const root = join(base, `case-${n++}`);
          const results = join(root, 'results');
          const victims = join(root, 'victims');
          const out = join(root, 'out');
          mkdirSync(results, { recursive: true });
          mkdirSync(victims);
          writeFileSync(join(victims, 'precious.txt'), 'precious\n');
          writeFileSync(join(results, 'manifest.json'), manifest);
          const run = JSON.parse(lines[line]!) as unknown;
          for (const [field, value] of edits) setAt(run, field, value);
          writeFileSync(join(results, 'runs.jsonl'), [...lines.slice(0, line), JSON.stringify(run), ...lines.slice(line + 1)].map((l) => `${l}\n`).join(''));
          if (outIsLink) symlinkSync(victims, out);
          else {
            mkdirSync(out);
            for (const [name, kind] of Object.entries(linkKinds)) {
              if (kind === 'to-victim-file') symlinkSync(join(victims, 'precious.txt'), join(out, name));
              if (kind === 'to-victim-dir') symlinkSync(victims, join(out, name));
              if (kind === 'dangling') symlinkSync(join(root, `ghost-${name}`), join(out, name));
            }
          }
          const before = snapshot(root, out);

          const r = await cli(['report', results, '--out', out]);

          expect([0, 2], r.err).toContain(r.code);
          exits.set(r.code, (exits.get(r.code) ?? 0) + 1);
          expect(r.err).not.toMatch(STACK_TRACE);
          expect(snapshot(root, out)).toEqual(before);
          expect(readdirSync('/tmp').filter((f) => f.includes(MARKER))).toEqual([]);
          if (outIsLink) {
            expect(r.code).toBe(2);
            return;
          }
          const written = readdirSync(out);
          expect(written.filter((f) => f.includes('partial'))).toEqual([]);
          if (r.code === 0) {
            for (const name of ['runs.csv', 'summary.json', 'report.md', 'report.html']) expect(lstatSync(join(out, name)).isFile(), name).toBe(true);
            expect(readFileSync(join(out, 'report.html'), 'utf8')).not.toMatch(/<script>alert|<img src=x/);
            expect(readFileSync(join(out, 'report.md'), 'utf8')).not.toMatch(/<script>alert|<img src=x/);
          }
        },
      ),
      {
        numRuns: 40,
        // Free-text fields that stay valid, so a report is made from them (the random cases are mostly refused).
        examples: [
          [
            [
              0,
              [
                [['state', 'problem'], `<script>alert(1)</script>\u0000../\n=cmd|${'x'.repeat(10_000)}`],
                [['migration', 'phases', 0, 'commands', 0, 'label'], `/../../../../tmp/${MARKER}`],
              ],
            ],
            Object.fromEntries(REPORT_NAMES.map((name) => [name, 'to-victim-file'])) as Record<string, LinkKind>,
            false,
          ],
          [
            [3, [[['state', 'before'], '<img src=x onerror=alert(1)>\u2028\u001b[31m']]],
            Object.fromEntries(REPORT_NAMES.map((name) => [name, 'dangling'])) as Record<string, LinkKind>,
            false,
          ],
        ],
      },
    );
    // Both ways were taken: records that stayed valid made a report, and refused ones exited 2.
    expect(exits.get(0) ?? 0).toBeGreaterThan(0);
    expect(exits.get(2) ?? 0).toBeGreaterThan(0);
  }, 240_000);
});
