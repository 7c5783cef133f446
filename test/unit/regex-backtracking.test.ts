// Every regular expression followme applies to input finishes on hostile
// input of 10 kB within 100 ms. Each pattern runs in a child process with a
// hard time limit, so one that backtracks exponentially fails this test
// instead of hanging it (the plain-path pattern before issue #19 took hours
// on '/' + 40 letters + '!'). A vm timeout would not do: V8 does not
// interrupt a regular expression in the middle of its match.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../common/paths.js';
import { PROFILE_NAME_PATTERN } from '../../experiment/profiles.js';
import { REPORT_FILE_NAME_PATTERN } from '../../experiment/report/output.js';
import { MIGRATION_ID } from '../../migration/engine/recover-orphans.js';

const TEN_KB = 10_000;
const BOUND_MS = 100;

/** Exported patterns of a module: strings named *_PATTERN, RegExps, and objects of RegExps (by their key). */
function patternsOf(module: Record<string, unknown>, from: string): [string, RegExp][] {
  const out: [string, RegExp][] = [];
  for (const [name, value] of Object.entries(module)) {
    if (typeof value === 'string' && name.endsWith('_PATTERN')) out.push([`${from} ${name}`, new RegExp(value, 'u')]);
    else if (value instanceof RegExp) out.push([`${from} ${name}`, value]);
    else if (value && typeof value === 'object' && Object.values(value).every((v) => v instanceof RegExp) && Object.keys(value).length > 0)
      for (const [k, v] of Object.entries(value as Record<string, RegExp>)) out.push([`${from} ${name}.${k}`, v]);
  }
  return out;
}

/** Strings that pump every kind of repeated part a pattern here may have, each ended by something that makes the match fail late. Self-contained: it is also run, as source, in the child. */
function adversarialInputs(length: number): string[] {
  const prefixes = ['', '/', 'a', 'qemu+ssh://', 'qemu:///system?', 'ssh-ed25519 ', '0.0.0.', '00:00:00:00:00:', 'a@', '20261127T014241Z-tmpfs-'];
  const pumps = [
    'a',
    '0',
    '.',
    '-',
    '_',
    '/',
    'a/',
    '/a',
    'a.',
    '0.',
    '00',
    ':',
    'a:',
    '0:',
    ' ',
    'A',
    '+',
    '=',
    'a-',
    '@',
    ',',
    'a,',
    'agent,',
    '1',
    '/.',
    'a_',
    '%',
    '[',
    '\t',
  ];
  const enders = ['!', '\n', '\u0000', ' ', '/', '#', '?', '=', '', '\u00e9'];
  const out: string[] = [];
  for (const p of prefixes)
    for (const pump of pumps)
      for (const e of enders) {
        const body = pump.repeat(Math.ceil((length - p.length - e.length) / pump.length));
        out.push(`${p}${body}`.slice(0, length - e.length) + e);
      }
  return out;
}

/** The slowest match of `re` over the adversarial inputs (each the fastest of up to three tries), in ms, measured in a child killed after 10 s. */
function slowestMatchMs(re: RegExp): { slowestMs: number; input: number } {
  const script = `
    const inputs = (${adversarialInputs.toString()})(${TEN_KB});
    const re = new RegExp(${JSON.stringify(re.source)}, ${JSON.stringify(re.flags)});
    let slowestMs = 0, input = -1;
    for (let i = 0; i < inputs.length; i++) {
      // The fastest of three tries: a busy machine can pause the process in one, never in all three,
      // while a pattern that backtracks is slow every time.
      let ms = Infinity;
      for (let k = 0; k < 3 && ms >= 1; k++) {
        const t = performance.now();
        re.lastIndex = 0;
        re.test(inputs[i]);
        ms = Math.min(ms, performance.now() - t);
      }
      if (ms > slowestMs) { slowestMs = ms; input = i; }
    }
    process.stdout.write(JSON.stringify({ slowestMs, input }));`;
  const r = spawnSync(process.execPath, ['-e', script], { timeout: 10_000, encoding: 'utf8', killSignal: 'SIGKILL' });
  if (r.error || r.status !== 0) throw new Error(`did not finish within 10 s: catastrophic backtracking (${r.error?.message ?? r.signal ?? r.stderr})`);
  return JSON.parse(r.stdout) as { slowestMs: number; input: number };
}

const inputModules = readdirSync(join(projectRoot(), 'common/input')).filter((f) => f.endsWith('.ts'));

const patterns: [string, RegExp][] = [];
for (const f of inputModules) {
  const module = (await import(/* @vite-ignore */ pathToFileURL(join(projectRoot(), 'common/input', f)).href)) as Record<string, unknown>;
  patterns.push(...patternsOf(module, `common/input/${f}`));
}
patterns.push(
  ['experiment/profiles.ts PROFILE_NAME_PATTERN', new RegExp(PROFILE_NAME_PATTERN, 'u')],
  ['experiment/report/output.ts REPORT_FILE_NAME_PATTERN', new RegExp(REPORT_FILE_NAME_PATTERN, 'u')],
  ['migration/engine/recover-orphans.ts MIGRATION_ID', MIGRATION_ID],
);

describe('regular expressions on input: no catastrophic backtracking', () => {
  const inputs = adversarialInputs(TEN_KB);

  it('covers the patterns it should, the plain-path one by name', () => {
    const names = patterns.map(([n]) => n);
    expect(names).toContain('common/input/patterns.ts PLAIN_ABSOLUTE_PATH_PATTERN');
    expect(names).toContain('common/input/config-values.ts CONFIG_VALUE_PATTERNS.path');
    expect(names).toContain('common/input/libvirt-uri.ts LIBVIRT_URI_PATTERNS.host');
    expect(patterns.length).toBeGreaterThan(25);
    expect(inputs.length).toBeGreaterThan(1000);
    expect(inputs.every((s) => s.length === TEN_KB)).toBe(true);
  });

  it.each(patterns)('%s: every 10 kB hostile input within 100 ms', (_name, re) => {
    const result = slowestMatchMs(re);
    expect(result.slowestMs, `slowest on input ${JSON.stringify(inputs[result.input]?.slice(0, 40))}…`).toBeLessThan(BOUND_MS);
  });

  it('the plain-path pattern still means what it meant', () => {
    const plain = patterns.find(([n]) => n === 'common/input/patterns.ts PLAIN_ABSOLUTE_PATH_PATTERN')![1];
    for (const ok of ['/', '/srv', '/srv/', '/srv/followme', '/a.b/c_d-e/', '/a/b/c']) expect(plain.test(ok), ok).toBe(true);
    for (const bad of ['', 'srv', '//', '/srv//x', '/a b', '/a\n', '/aaaa!', '/ä']) expect(plain.test(bad), bad).toBe(false);
  });
});
