// followme report DIR: the report from a results directory alone. DIR is
// input like any other (it may come from anywhere): it is read with limits,
// and the report is written only into its own directory.
import { join } from 'node:path';
import { buildReport } from '../../experiment/report/build.js';
import { outputPath } from '../flags.js';
import { log, print } from '../output.js';
import type { ReportFlags } from '../program.js';

export async function reportCommand(dir: string, flags: ReportFlags): Promise<void> {
  const results = outputPath('dir', dir);
  const out = outputPath('out', flags.out ?? join(results, 'report'));
  const r = await buildReport(results, out);
  for (const note of r.integrity) log(`runs.jsonl: ${note}`);
  print(`${r.dir}/report.md and report.html: ${r.runs} runs, ${r.counted} in the statistics; ${r.files.length} files\n`);
}
