// A YAML input file (stack config, plan): read with the input limits, parsed
// without aliases, so a small file cannot expand into a huge document
// ("billion laughs"). A parse error is a ConfigError naming the flag.
import { parse } from 'yaml';
import { ConfigError } from '../errors.js';
import { clip } from './clip.js';
import { readInputFile } from './read.js';

export function readYamlInput(path: string, o: { what: string; key: string }): unknown {
  const text = readInputFile(path, o);
  try {
    return parse(text, { maxAliasCount: 0 });
  } catch (cause) {
    throw new ConfigError(`--${o.key}: ${path}: not valid YAML: ${clip((cause as Error).message)}`, o.key, { cause });
  }
}
