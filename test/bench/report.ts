// npm run bench -- report: `followme report` on results directories of
// 1,000, 10,000 and 100,000 runs, made from the real smoke run's records
// (test/fixtures/results) with their keys spread over a plan big enough to
// hold them. Each report runs in a child process of its own; this prints
// its wall time and peak memory (the child's maxRSS). Target: 100,000 runs
// in under 60 s and 1 GB. Figures, not assertions.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../common/paths.js';
import { timelinePath } from '../../experiment/results.js';

const SIZES = [1_000, 10_000, 100_000];
const fixture = join(projectRoot(), 'test/fixtures/results');

interface Made {
  dir: string;
  bytes: number;
}

/** A results directory of `runs` runs: the fixture's records, each repeated under keys of a plan with enough profiles and repetitions. */
function makeResults(runs: number): Made {
  const lines = readFileSync(join(fixture, 'runs.jsonl'), 'utf8').split('\n').filter(Boolean);
  const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => r['repetition'] === 1);
  const manifest = JSON.parse(readFileSync(join(fixture, 'manifest.json'), 'utf8')) as { plan: { repetitions: number; profiles: unknown[] } };
  const repetitions = 1000;
  const profiles = Math.ceil(runs / (records.length * repetitions));
  manifest.plan.repetitions = repetitions;
  manifest.plan.profiles = Array.from({ length: profiles }, (_, i) => ({ name: i === 0 ? 'gigabit' : `link-${i}`, rateMbit: 1000 }));
  const dir = mkdtempSync(join('/var/tmp', `followme-bench-report-${runs}-`));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  const fd = openSync(join(dir, 'runs.jsonl'), 'w');
  try {
    let made = 0;
    for (let p = 0; p < profiles && made < runs; p++)
      for (let rep = 1; rep <= repetitions && made < runs; rep++)
        for (const r of records) {
          if (made >= runs) break;
          const profile = p === 0 ? 'gigabit' : `link-${p}`;
          const key = `${profile}/${r['workload']}/${r['strategy']}/${rep}`;
          writeSync(fd, `${JSON.stringify({ ...r, key, profile, repetition: rep, index: ++made, timeline: timelinePath(key) })}\n`);
        }
  } finally {
    closeSync(fd);
  }
  return { dir, bytes: statSync(join(dir, 'runs.jsonl')).size };
}

/** `followme report` in a child that prints its own peak memory as it exits. */
function timedReport(dir: string): { ms: number; maxRssMiB: number; code: number | null; stdout: string } {
  const program = join(projectRoot(), 'dist/cli/program.js');
  const script = `
    const { runCli } = await import(${JSON.stringify(program)});
    const code = await runCli(process.argv.slice(1));
    process.stderr.write('maxRSS ' + process.resourceUsage().maxRSS + '\\n');
    process.exit(code);`;
  const started = performance.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, 'report', dir], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - started;
  const kb = Number(/maxRSS (\d+)/.exec(r.stderr)?.[1] ?? Number.NaN);
  if (r.status !== 0) process.stderr.write(r.stderr.slice(-2000));
  return { ms, maxRssMiB: kb / 1024, code: r.status, stdout: r.stdout.trim() };
}

export async function benchReport(): Promise<Record<string, string>> {
  const os = await import('node:os');
  const rows: Record<string, string> = {
    'load before': os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  };
  for (const runs of SIZES) {
    const made = makeResults(runs);
    try {
      const r = timedReport(made.dir);
      rows[`${runs} runs (${(made.bytes / 1024 ** 2).toFixed(0)} MB)`] =
        `${(r.ms / 1000).toFixed(1)} s, peak ${r.maxRssMiB.toFixed(0)} MiB, exit ${r.code}: ${r.stdout.replace(`${made.dir}/`, '')}`;
    } finally {
      rmSync(made.dir, { recursive: true, force: true });
    }
  }
  rows['machine'] = `Node ${process.version}, ${os.cpus().length} cores, load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} at the end`;
  return rows;
}
