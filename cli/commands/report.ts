// followme report DIR: the report from a results directory alone (an
// experiment's, or a trip run's). DIR is
// input like any other (it may come from anywhere): it is read with limits,
// and the report is written only into its own directory.
import { join } from 'node:path';
import { buildReport } from '../../experiment/report/build.js';
import { isTripManifest, readManifestJson } from '../../mobility/trip-manifest.js';
import { buildTripReport } from '../../mobility/trip-report.js';
import { outputPath } from '../flags.js';
import { log, print } from '../output.js';
import type { ReportFlags } from '../program.js';

export async function reportCommand(dir: string, flags: ReportFlags): Promise<void> {
  const results = outputPath('dir', dir);
  const out = outputPath('out', flags.out ?? join(results, 'report'));
  // A trip run's manifest says so; anything else is read as an experiment's (and refused there if it is not one).
  if (isTripManifest(readManifestJson(results, 'dir'))) {
    const t = await buildTripReport(results, out);
    for (const note of t.integrity) log(`trip.jsonl: ${note}`);
    print(`${t.dir}/report.md and report.html: ${t.trips} trips; ${t.files.length} files\n`);
    return;
  }
  const r = await buildReport(results, out);
  for (const note of r.integrity) log(`runs.jsonl: ${note}`);
  print(`${r.dir}/report.md and report.html: ${r.runs} runs, ${r.counted} in the statistics; ${r.files.length} files\n`);
}
