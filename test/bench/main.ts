// npm run bench -- <name>: prints figures for speed and memory targets.
import { benchTestbed } from './testbed.js';
import { benchEngine } from './engine.js';
import { benchReport } from './report.js';
import { benchSoak } from './soak.js';
import { benchStreams } from './streams.js';
import { benchStrategies } from './strategies.js';

const benches: Record<string, () => Promise<Record<string, string>>> = {
  testbed: benchTestbed,
  engine: benchEngine,
  soak: benchSoak,
  report: benchReport,
  streams: benchStreams,
  strategies: benchStrategies,
};

// The soak and the strategies bench run for an hour or more under TCG: only when asked for by name.
const wanted = process.argv.slice(2);
const names = wanted.length ? wanted : Object.keys(benches).filter((b) => b !== 'soak' && b !== 'strategies');
for (const name of names) {
  const bench = benches[name];
  if (!bench) {
    process.stderr.write(`unknown bench "${name}"; known: ${Object.keys(benches).join(', ')}\n`);
    process.exit(2);
  }
  process.stdout.write(`\n== bench: ${name}\n`);
  const rows = await bench();
  const width = Math.max(...Object.keys(rows).map((k) => k.length));
  for (const [k, v] of Object.entries(rows)) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
}
