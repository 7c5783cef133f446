// JSON from a file (inventory, manifest, a line of runs.jsonl): parsed, and
// its shape bounded, with errors that name where, never what: a file that
// is not JSON may be anything (`--inventory /proc/self/environ`), so no
// byte of it is echoed.
import { ConfigError } from '../errors.js';
import { structureProblem } from './structure.js';

/** Where a JSON.parse error points, if its message says; V8's messages also quote the text, which is dropped. */
function errorPosition(text: string, message: string): string {
  const at = /position (\d{1,10})/.exec(message)?.[1];
  if (at === undefined) return /end of JSON input/.test(message) ? ' (it ends early)' : '';
  const before = text.slice(0, Number(at));
  const line = before.split('\n').length;
  return ` (line ${line}, column ${Number(at) - before.lastIndexOf('\n')})`;
}

/** The parsed value, or a ConfigError naming `source` and `key`: not JSON, or out of INPUT_LIMITS. */
export function parseJsonInput(text: string, source: string, key: string): unknown {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (cause) {
    throw new ConfigError(`${source}: not valid JSON${errorPosition(text, (cause as Error).message)}`, key, { cause });
  }
  const problem = structureProblem(data);
  if (problem) throw new ConfigError(`${source}: ${problem}; not read further`, key);
  return data;
}
