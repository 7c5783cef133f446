// Issue #19: results directories and inputs from elsewhere are hostile.
// Each defect the issue lists, reproduced: `report` writes only inside its
// output directory and follows no link, every parse is bounded, bad input
// exits 2 and a broken environment 1 with a message (never a stack trace),
// recover never says "nothing left" without looking, and what is wrong with
// a results directory is named. No VM: the results directory is the real
// one in test/fixtures/results, and the nodes an SSH server on loopback
// that records what it is sent.
import { appendFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { projectRoot } from '../../common/paths.js';
import { recover } from '../../migration/engine/recover.js';
import { journalDirFor } from '../../migration/journal.js';
import { clientKey, loopbackInventory, startRecordingSshServer, writeJson, type RecordingSshServer } from '../harness/recording-ssh-server.js';
import { cli, STACK_TRACE } from '../cli-run.js';
import { scratchDir } from '../scratch.js';

// Each case runs the CLI in-process: its first report loads vega, and the machine may be busy with TCG guests.
vi.setConfig({ testTimeout: 60_000 });

const fixture = join(projectRoot(), 'test/fixtures/results');
const fixtureLines = () => readFileSync(join(fixture, 'runs.jsonl'), 'utf8').split('\n').filter(Boolean);
const fixtureManifest = () => JSON.parse(readFileSync(join(fixture, 'manifest.json'), 'utf8')) as Record<string, unknown> & { plan: Record<string, unknown> };

/** A copy of the real results directory, its runs.jsonl made of `lines` (default: as recorded). */
function resultsDir(lines: string[] = fixtureLines(), manifest: unknown = fixtureManifest()): string {
  const d = scratchDir('fm-hostile-res-');
  writeFileSync(join(d, 'manifest.json'), JSON.stringify(manifest));
  writeFileSync(join(d, 'runs.jsonl'), lines.map((l) => `${l}\n`).join(''));
  return d;
}

/** Line `i` of the fixture with some of its fields replaced. */
function edited(i: number, patch: Record<string, unknown>): string {
  return JSON.stringify({ ...(JSON.parse(fixtureLines()[i]!) as Record<string, unknown>), ...patch });
}

async function expectExit(args: string[], code: number, message: RegExp): Promise<string> {
  const r = await cli(args);
  expect(r.code, r.err).toBe(code);
  expect(r.err).toMatch(message);
  expect(r.err).not.toMatch(STACK_TRACE);
  return r.err;
}

let server: RecordingSshServer;
let keyDir: string;
let key: { privateKeyPath: string; publicKey: string };
let stateBefore: string | undefined;

beforeAll(async () => {
  keyDir = scratchDirForFile();
  key = clientKey(keyDir);
  server = await startRecordingSshServer(key.publicKey);
  stateBefore = process.env['FOLLOWME_STATE_DIR'];
  process.env['FOLLOWME_STATE_DIR'] = join(keyDir, 'state');
});
afterAll(async () => {
  await server.close();
  rmSync(keyDir, { recursive: true, force: true });
  if (stateBefore === undefined) delete process.env['FOLLOWME_STATE_DIR'];
  else process.env['FOLLOWME_STATE_DIR'] = stateBefore;
});

/** A directory for the whole file (scratchDir() is per test). */
const scratchDirForFile = () => mkdtempSync(join(tmpdir(), 'fm-hostile-results-'));

describe('defect 1: report writes outside its output directory', () => {
  it("a run's profile cannot reach a chart's file name: /../../../../tmp/X is refused, nothing is written there", async () => {
    const marker = `fm-pwn-${process.pid}-${Date.now()}`;
    const d = resultsDir([...fixtureLines(), edited(0, { profile: `/../../../../tmp/${marker}` })]);
    await expectExit(['report', d, '--out', join(d, 'out')], 2, /runs\.jsonl:13: not a run record:\n.*run\.profile/);
    expect(existsSync(`/tmp/${marker}.svg`)).toBe(false);
    expect(readdirSync('/tmp').filter((n) => n.includes(marker))).toEqual([]);
  });

  it('a link already in the output directory is replaced, not written through', async () => {
    const d = resultsDir();
    const out = join(d, 'out');
    mkdirSync(out);
    const victim = join(d, 'victim.txt');
    writeFileSync(victim, 'precious\n');
    symlinkSync(victim, join(out, 'runs.csv'));
    symlinkSync(victim, join(out, 'report.html'));
    await expectExit(['report', d, '--out', out], 0, /^/);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(readFileSync(join(out, 'runs.csv'), 'utf8')).toMatch(/^key,index,experiment/);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toMatch(/<html/);
  });

  it('DIR/report being a link (the default output directory, inside a directory from elsewhere) is refused', async () => {
    const d = resultsDir();
    const elsewhere = scratchDir('fm-elsewhere-');
    symlinkSync(elsewhere, join(d, 'report'));
    await expectExit(['report', d], 2, /report is a symbolic link/);
    expect(readdirSync(elsewhere)).toEqual([]);
  });
});

describe('defect 3: quadratic YAML checking', () => {
  it('a plan with 100,000 keys is refused by its count, before the duplicate check', async () => {
    const d = scratchDir('fm-keys-');
    const plan = join(d, 'plan.yaml');
    writeFileSync(plan, Array.from({ length: 100_000 }, (_, i) => `k${i}: 1`).join('\n'));
    await expectExit(['experiment', '--plan', plan, '--stack', 'two-vm'], 2, /--plan: .*plan\.yaml: it holds more than 20000 values/);
  }, 60_000);

  it('a duplicate key is still refused, by line', async () => {
    const d = scratchDir('fm-keys-');
    const plan = join(d, 'plan.yaml');
    writeFileSync(plan, 'planVersion: 1\nname: a\nname: b\n');
    await expectExit(['experiment', '--plan', plan, '--stack', 'two-vm'], 2, /key "name" appears twice in one mapping \(line 3\)/);
  });
});

describe('defect 4: stack traces on bad input', () => {
  it('--out naming an existing file: report and experiment exit 2', async () => {
    const d = resultsDir();
    const file = join(d, 'a-file');
    writeFileSync(file, 'x');
    await expectExit(['report', d, '--out', file], 2, /--out: .*a-file"? exists and is not a directory/);
    const plan = join(d, 'plan.yaml');
    writeFileSync(plan, stringify({ planVersion: 1, ...fixtureManifest().plan }));
    await expectExit(['experiment', '--plan', plan, '--stack', 'two-vm', '--out', file], 2, /--out: .*a-file"? exists and is not a directory/);
  });

  it('a write error in report exits 1 naming the file', async () => {
    const d = resultsDir();
    const out = join(d, 'out');
    mkdirSync(join(out, 'summary.json'), { recursive: true });
    writeFileSync(join(out, 'summary.json', 'x'), 'x');
    await expectExit(['report', d, '--out', out], 1, /cannot write .*out\/summary\.json: /);
  });

  it('runs.jsonl being a directory exits 2', async () => {
    const d = resultsDir();
    rmSync(join(d, 'runs.jsonl'));
    mkdirSync(join(d, 'runs.jsonl'));
    await expectExit(['report', d], 2, /runs\.jsonl is not a regular file/);
  });

  it('an inventory nested 100,000 deep exits 2 with a message', async () => {
    const d = scratchDir('fm-deep-');
    const inv = join(d, 'inventory.json');
    writeFileSync(inv, `${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    await expectExit(['recover', '--inventory', inv], 2, /--inventory: .*inventory\.json: it is nested more than 32 levels deep/);
  });

  it('a manifest that passes only the old shallow check exits 2, naming the key', async () => {
    const m = fixtureManifest();
    (m['nodes'] as Record<string, unknown>)['edge-a'] = 'not facts';
    await expectExit(['report', resultsDir(fixtureLines(), m)], 2, /manifest\.nodes\["?edge-a"?\]|manifest\.nodes\.edge-a/);
    const m2 = fixtureManifest();
    m2.plan['profiles'] = [{ name: 'gigabit', rateMbit: -1 }];
    await expectExit(['report', resultsDir(fixtureLines(), m2)], 2, /manifest\.plan: the plan is not valid:\n.*rateMbit/);
  });

  it.each([
    ['a NUL', 'giga\u0000bit'],
    ['300 characters', 'g'.repeat(300)],
  ])('a profile name with %s exits 2', async (_what, profile) => {
    const d = resultsDir([...fixtureLines().slice(1), edited(0, { profile })]);
    await expectExit(['report', d], 2, /runs\.jsonl:12: not a run record:\n.*run\.profile/);
  });
});

describe('defect 5: recover says all-clear without looking', () => {
  it('an edge it cannot reach is a problem, not "nothing left" (exit 1 from the CLI)', async () => {
    const inv = loopbackInventory(server, key.privateKeyPath);
    const never = async () => {
      throw new Error('edge-a (127.0.0.1): SSH connection failed: connect ECONNREFUSED');
    };
    const reports = await recover({ inventory: inv, connect: never, journalDir: join(scratchDir('fm-j-'), 'none'), connectPauseMs: 1 });
    expect(reports).toMatchObject([{ settled: false, problem: expect.stringMatching(/^could not reach edge-a to look for what migrations left there/) }]);
  });

  it('a journal directory that cannot be read exits 1, naming it', async () => {
    const d = scratchDir('fm-inv-');
    const inv = writeJson(d, 'inventory.json', loopbackInventory(server, key.privateKeyPath));
    const journal = journalDirFor('fmfake');
    mkdirSync(join(journal, '..'), { recursive: true });
    rmSync(journal, { recursive: true, force: true });
    writeFileSync(journal, 'not a directory');
    try {
      await expectExit(['recover', '--inventory', inv], 1, /cannot read the journal directory .*journal: ENOTDIR/);
    } finally {
      rmSync(journal, { force: true });
    }
  });
});

describe('defect 6: unbounded reads of results', () => {
  it('runs.jsonl linked to /dev/zero, or a FIFO: refused before a byte is read', async () => {
    const d = resultsDir();
    rmSync(join(d, 'runs.jsonl'));
    symlinkSync('/dev/zero', join(d, 'runs.jsonl'));
    await expectExit(['report', d], 2, /runs\.jsonl is not a regular file/);
    rmSync(join(d, 'runs.jsonl'));
    execFileSync('mkfifo', [join(d, 'runs.jsonl')]);
    await expectExit(['report', d], 2, /runs\.jsonl is not a regular file/);
  });

  it('a file larger than one read (4 MiB) is streamed: every run kept, lines across chunks included', async () => {
    const base = JSON.parse(fixtureLines()[0]!) as Record<string, unknown>;
    const manifest = fixtureManifest();
    manifest.plan['repetitions'] = 1000;
    // 1,000 runs of about 6 kB: a line crosses the first chunk's end.
    const lines = Array.from({ length: 1000 }, (_, i) =>
      JSON.stringify({
        ...base,
        key: `gigabit/blank/tmpfs/${i + 1}`,
        repetition: i + 1,
        index: i + 1,
        timeline: `timelines/gigabit_blank_tmpfs_${i + 1}.json`,
      }),
    );
    expect(lines.join('\n').length).toBeGreaterThan(4 * 1024 * 1024);
    const d = resultsDir(lines, manifest);
    const r = await cli(['report', d]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/1000 runs, 1000 in the statistics/);
    expect(
      readFileSync(join(d, 'report', 'runs.csv'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(1001);
  }, 60_000);
});

describe('defect 7: results integrity', () => {
  it('a torn last line, a duplicate key and a run outside the plan are each named, in the report and on stderr; none is counted', async () => {
    const lines = fixtureLines();
    const foreign = edited(0, { key: 'gigabit/blank/tmpfs/9', repetition: 9, timeline: 'timelines/gigabit_blank_tmpfs_9.json' });
    const d = resultsDir([...lines, lines[0]!, foreign]);
    appendFileSync(join(d, 'runs.jsonl'), '{"runVersion":1,"key":"gigabit/bl');
    const r = await cli(['report', d]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/: 12 runs,/);
    const notes = [
      '1 torn line at the end (a run killed while writing), ignored',
      'run gigabit/blank/tmpfs/1 is on lines 1, 13: the first is kept, the others ignored',
      'run gigabit/blank/tmpfs/9 (line 14) is not in the plan: ignored',
    ];
    const md = readFileSync(join(d, 'report', 'report.md'), 'utf8');
    for (const n of notes) {
      expect(r.err).toContain(n);
      expect(md).toContain(n);
    }
    expect(
      readFileSync(join(d, 'report', 'runs.csv'), 'utf8')
        .trim()
        .split('\n'),
    ).toHaveLength(13);
  });

  it("experiment's resume names them too, and runs nothing again (every planned run is there): no node is contacted", async () => {
    const lines = fixtureLines();
    const foreign = edited(0, { key: 'gigabit/blank/tmpfs/9', repetition: 9, timeline: 'timelines/gigabit_blank_tmpfs_9.json' });
    const d = resultsDir([...lines, lines[0]!, foreign]);
    const plan = join(d, 'plan.yaml');
    writeFileSync(plan, stringify({ planVersion: 1, ...fixtureManifest().plan }));
    const inv = writeJson(
      d,
      'inventory.json',
      loopbackInventory(server, key.privateKeyPath, {
        prefix: 'fmnfs',
        containerAddresses: [
          { ip: '127.0.0.250', mac: '52:54:00:00:00:fa' },
          { ip: '127.0.0.251', mac: '52:54:00:00:00:fb' },
        ],
      }),
    );
    // The old lock went beside the directory: a file there made every resume say "in use".
    writeFileSync(`${d}.lock`, '');
    const before = server.connections;
    try {
      const r = await cli(['experiment', '--plan', plan, '--inventory', inv, '--out', d]);
      expect(r.code, r.err).toBe(0);
      expect(r.err).toContain('run gigabit/blank/tmpfs/1 is on lines 1, 13: the first is kept, the others ignored');
      expect(r.err).toContain('run gigabit/blank/tmpfs/9 (line 14) is not in the plan: ignored');
      expect(r.err).toMatch(/resuming: 12 of 12 runs/);
      expect(r.out).toMatch(/^12 runs in /);
      expect(server.connections).toBe(before);
    } finally {
      rmSync(`${d}.lock`, { force: true });
    }
  });
});

describe('defect 8: smaller ones', () => {
  it('--prefix, --config and --keep with --inventory are refused, not ignored', async () => {
    const d = resultsDir();
    const plan = join(d, 'plan.yaml');
    writeFileSync(plan, stringify({ planVersion: 1, ...fixtureManifest().plan }));
    const inv = writeJson(d, 'inventory.json', loopbackInventory(server, key.privateKeyPath));
    await expectExit(['experiment', '--plan', plan, '--inventory', inv, '--prefix', 'abc'], 2, /--prefix: goes with --stack/);
    await expectExit(['experiment', '--plan', plan, '--inventory', inv, '--config', plan], 2, /--config: goes with --stack/);
  });

  it('an empty or relative FOLLOWME_STATE_DIR is refused, never the current directory', async () => {
    const saved = process.env['FOLLOWME_STATE_DIR'];
    try {
      for (const value of ['', 'state']) {
        process.env['FOLLOWME_STATE_DIR'] = value;
        await expectExit(['testbed', 'status', '--stack', 'two-vm'], 2, /FOLLOWME_STATE_DIR: .* is not an absolute path/);
      }
    } finally {
      process.env['FOLLOWME_STATE_DIR'] = saved;
    }
  });

  it('a file that is not a plan is not echoed back (--plan /proc/self/environ)', async () => {
    process.env['FOLLOWME_ECHO_MARKER'] = 'do-not-print-me';
    try {
      const err = await expectExit(['experiment', '--plan', '/proc/self/environ', '--stack', 'two-vm'], 2, /--plan|plan/);
      expect(err).not.toContain('do-not-print-me');
      const d = scratchDir('fm-echo-');
      writeFileSync(join(d, 'inv.json'), '{"version": 1, "secret": do-not-print-me}');
      const err2 = await expectExit(['recover', '--inventory', join(d, 'inv.json')], 2, /inv\.json: not valid JSON/);
      expect(err2).not.toContain('do-not-print-me');
      writeFileSync(join(d, 'plan.yaml'), 'planVersion: 1\nsecret: [do-not-print-me\n');
      const err3 = await expectExit(['experiment', '--plan', join(d, 'plan.yaml'), '--stack', 'two-vm'], 2, /plan\.yaml: not valid YAML: [A-Z_]+ at line/);
      expect(err3).not.toContain('do-not-print-me');
    } finally {
      delete process.env['FOLLOWME_ECHO_MARKER'];
    }
  });

  it('a rate of 1e-300 Mbit/s is refused before it reaches tc', async () => {
    const d = scratchDir('fm-rate-');
    const plan = join(d, 'plan.yaml');
    writeFileSync(
      plan,
      stringify({ planVersion: 1, name: 'p', strategies: ['tmpfs'], workloads: [{ name: 'blank' }], profiles: [{ name: 'slow', rateMbit: 1e-300 }] }),
    );
    await expectExit(['experiment', '--plan', plan, '--stack', 'two-vm'], 2, /plan\.profiles\[0\]\.rateMbit/);
  });

  it('a !!js/function tag is refused, not warned about', async () => {
    const d = scratchDir('fm-tag-');
    const plan = join(d, 'plan.yaml');
    writeFileSync(plan, 'planVersion: 1\nname: !!js/function "function () {}"\n');
    const err = await expectExit(['experiment', '--plan', plan, '--stack', 'two-vm'], 2, /not valid YAML: TAG_RESOLVE_FAILED at line 2/);
    expect(err.split('\n').filter(Boolean)).toHaveLength(1);
  });
});

describe('control: a well-formed results directory still makes its report', () => {
  it('exit 0, every file inside the output directory', async () => {
    const d = resultsDir();
    chmodSync(d, 0o755);
    const r = await cli(['report', d]);
    expect(r.code, r.err).toBe(0);
    expect(readdirSync(join(d, 'report')).sort()).toEqual(expect.arrayContaining(['report.html', 'report.md', 'runs.csv', 'summary.json']));
  });
});
