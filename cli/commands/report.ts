// followme report DIR: the report from a results directory alone.
import { join } from 'node:path';
import { buildReport } from '../../experiment/report/build.js';
import { outputPath } from '../flags.js';
import { print } from '../output.js';
import type { ReportFlags } from '../program.js';

export async function reportCommand(dir: string, flags: ReportFlags): Promise<void> {
  const results = outputPath('dir', dir);
  const out = outputPath('out', flags.out ?? join(results, 'report'));
  const r = await buildReport(results, out);
  print(`${r.dir}/report.md and report.html: ${r.runs} runs, ${r.counted} in the statistics; ${r.files.length} files\n`);
}
