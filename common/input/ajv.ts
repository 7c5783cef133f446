// One way to turn ajv's errors into messages that name the key, the value
// (cut short) and what is allowed: for stack configs, inventories and records.
import { Ajv, type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import { shown } from './clip.js';
import { registeredNames } from './registered.js';

export function newAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
  addFormats.default(ajv, ['date-time']);
  // `{ registered: "strategy" }`: one of the names registered now (registered.ts), looked up at each check.
  const inList = (list: string, data: unknown) => typeof data === 'string' && registeredNames(list).includes(data);
  ajv.addKeyword({
    keyword: 'registered',
    type: 'string',
    schemaType: 'string',
    validate: check,
  });
  function check(list: string, data: unknown): boolean {
    const ok = inList(list, data);
    check.errors = ok ? [] : [{ keyword: 'registered', message: `must be one of ${registeredNames(list).join(', ')}`, params: { list } }];
    return ok;
  }
  check.errors = [] as Partial<ErrorObject>[];
  return ajv;
}

export interface SchemaProblem {
  /** The offending key as a user writes it, e.g. `cfg.nodes[0].vcpus`. */
  key: string;
  text: string;
}

/** At most this many problems are listed; the rest are counted. */
export const MAX_PROBLEMS_SHOWN = 10;

/** One key of a path as a user reads it: `.name`, `[0]`, or `["odd key"]` (quoted, cut short) for anything else. */
export function keySegment(key: string): string {
  if (/^\d+$/.test(key)) return `[${key}]`;
  if (/^[A-Za-z_][A-Za-z0-9_:-]*$/.test(key)) return `.${key}`;
  return `[${shown(key, 40)}]`;
}

export function keyPath(root: string, instancePath: string): string {
  const parts = instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  return parts.reduce((acc, p) => acc + keySegment(p), root);
}

function describe(root: string, e: ErrorObject): SchemaProblem {
  const key = keyPath(root, e.instancePath);
  if (e.keyword === 'additionalProperties') {
    const extra = String(e.params['additionalProperty']);
    const allowed = Object.keys((e.parentSchema as { properties?: object })?.properties ?? {});
    return { key: `${key}${keySegment(extra)}`, text: `${key}${keySegment(extra)}: unknown key ${shown(extra, 40)}; allowed keys here: ${allowed.join(', ')}` };
  }
  if (e.keyword === 'required') {
    const missing = String(e.params['missingProperty']);
    return { key: `${key}${keySegment(missing)}`, text: `${key}${keySegment(missing)} is required` };
  }
  const description = (e.parentSchema as { description?: string } | undefined)?.description;
  const allowed = e.keyword === 'const' ? `must be ${JSON.stringify(e.params['allowedValue'])}` : (e.message ?? 'is invalid');
  // The whole document is never echoed: a file that is not a config at all (`--plan /proc/self/environ`) parses as one big value.
  const value = e.instancePath === '' ? '' : ` = ${shown(e.data)}`;
  return { key, text: `${key}${value}: ${allowed}${description ? ` (${description})` : ''}` };
}

/** Problems in order, one per key and message; union branches (anyOf) collapse to their members' errors. */
export function schemaProblems(root: string, errors: readonly ErrorObject[] | null | undefined): SchemaProblem[] {
  const seen = new Set<string>();
  const out: SchemaProblem[] = [];
  for (const e of errors ?? []) {
    if (e.keyword === 'anyOf') continue;
    const d = describe(root, e);
    if (seen.has(d.text)) continue;
    seen.add(d.text);
    out.push(d);
  }
  return out;
}

/** The problems as an indented list, at most MAX_PROBLEMS_SHOWN of them. */
export function formatProblems(problems: readonly SchemaProblem[]): string {
  const lines = problems.slice(0, MAX_PROBLEMS_SHOWN).map((p) => p.text);
  if (problems.length > MAX_PROBLEMS_SHOWN) lines.push(`… and ${problems.length - MAX_PROBLEMS_SHOWN} more`);
  return lines.map((l) => `  ${l}`).join('\n');
}
