// A YAML input file (stack config, plan): read with the input limits and
// parsed without aliases, so a small file cannot expand into a huge
// document ("billion laughs"). The library's duplicate-key check is
// quadratic, so it is off; keys are counted and checked here in one pass,
// and the shape is bounded before toJS recurses into it. Errors name the
// flag and the line, never the file's text (it may be any file). Unknown
// tags (`!!js/function`) are refused, not warned about.
import { isMap, isPair, isScalar, isSeq, parseDocument, type Node } from 'yaml';
import { ConfigError } from '../errors.js';
import { shown } from './clip.js';
import { readInputFile } from './read.js';
import { INPUT_LIMITS } from './structure.js';

interface Problem {
  code: string;
  linePos?: readonly { line: number; col: number }[];
}

const where = (p: Problem) => (p.linePos?.[0] ? ` at line ${p.linePos[0].line}, column ${p.linePos[0].col}` : '');

/** Why the document's tree is out of bounds or has a key twice in one mapping, or undefined. Iterative. */
function treeProblem(root: unknown, lineOf: (offset: number) => number): string | undefined {
  const stack: { node: unknown; depth: number }[] = [{ node: root, depth: 0 }];
  let values = 0;
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (++values > INPUT_LIMITS.maxValues) return `it holds more than ${INPUT_LIMITS.maxValues} values`;
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth >= INPUT_LIMITS.maxDepth) return `it is nested more than ${INPUT_LIMITS.maxDepth} levels deep`;
    if (isSeq(node)) {
      for (const item of node.items) stack.push({ node: item, depth: depth + 1 });
      continue;
    }
    const seen = new Set<string>();
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = pair.key as Node | null;
      if (!isScalar(key)) return `a key at line ${lineOf((key as Node | null)?.range?.[0] ?? 0)} is not a plain value`;
      const name = String(key.value);
      if (seen.has(name)) return `key ${shown(name, 40)} appears twice in one mapping (line ${lineOf(key.range?.[0] ?? 0)})`;
      seen.add(name);
      stack.push({ node: pair.value, depth: depth + 1 });
    }
  }
  return undefined;
}

export function parseYamlInput(text: string, source: string, key: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: false, logLevel: 'silent' });
  const problem: Problem | undefined = doc.errors[0] ?? doc.warnings[0];
  if (problem) throw new ConfigError(`--${key}: ${source}: not valid YAML: ${problem.code}${where(problem)}`, key);
  const lineOf = (offset: number) => text.slice(0, offset).split('\n').length;
  const shape = treeProblem(doc.contents, lineOf);
  if (shape) throw new ConfigError(`--${key}: ${source}: ${shape}; not read further`, key);
  try {
    return doc.toJS({ maxAliasCount: 0 });
  } catch (cause) {
    // The only failure left is an alias (maxAliasCount 0): followme's inputs have no use for them.
    throw new ConfigError(`--${key}: ${source}: not valid YAML: aliases (*name) are not allowed`, key, { cause });
  }
}

export function readYamlInput(path: string, o: { what: string; key: string }): unknown {
  return parseYamlInput(readInputFile(path, o), path, o.key);
}
