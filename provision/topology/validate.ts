// Validates a topology: JSON schema first (ajv), then the rules a schema
// cannot say (unique names, subnet arithmetic). Every error names the key.
import { Ajv, type ErrorObject } from 'ajv';
import { ConfigError } from '../../common/errors.js';
import { TopologySchema, type Topology } from './schema.js';
import { hostCount, parseSubnet } from '../../common/net.js';

const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
const checkSchema = ajv.compile<Topology>(TopologySchema);

/** First usable host number given to a node; .1 is the libvirt gateway. */
export const FIRST_NODE_HOST = 10;
/** Addresses kept for containers (the last hosts of the subnet): a container keeps its address on any edge. */
export const CONTAINER_ADDRESSES = 4;

function keyPath(root: string, instancePath: string): string {
  const parts = instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : `${acc}.${p}`), root);
}

function valueAt(data: unknown, instancePath: string): unknown {
  let v: unknown = data;
  for (const p of instancePath.split('/').slice(1)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

function describe(root: string, data: unknown, e: ErrorObject): { key: string; text: string } {
  const key = keyPath(root, e.instancePath);
  if (e.keyword === 'additionalProperties') {
    const extra = String(e.params['additionalProperty']);
    const allowed = Object.keys((e.parentSchema as { properties?: object })?.properties ?? {});
    return { key: `${key}.${extra}`, text: `${key}.${extra}: unknown key "${extra}"; allowed keys here: ${allowed.join(', ')}` };
  }
  if (e.keyword === 'required') {
    const missing = String(e.params['missingProperty']);
    return { key: `${key}.${missing}`, text: `${key}.${missing} is required` };
  }
  const value = JSON.stringify(valueAt(data, e.instancePath));
  const description = (e.parentSchema as { description?: string } | undefined)?.description;
  const allowed = e.keyword === 'const' ? `must be ${JSON.stringify(e.params['allowedValue'])}` : e.message ?? 'is invalid';
  return { key, text: `${key} = ${value}: ${allowed}${description ? ` (${description})` : ''}` };
}

/**
 * Checks `data` against the topology schema and the rules beyond it.
 * `source` names where the data came from (a file path and key) for messages.
 */
export function validateTopology(data: unknown, source = 'topology'): Topology {
  if (!checkSchema(data)) {
    const errors = checkSchema.errors ?? [];
    // A union (image) reports one error per branch; the const/kind one is the helpful one.
    const seen = new Set<string>();
    const lines: string[] = [];
    let firstKey: string | undefined;
    for (const e of errors) {
      if (e.keyword === 'anyOf') continue;
      const d = describe(source, data, e);
      if (seen.has(d.text)) continue;
      seen.add(d.text);
      firstKey ??= d.key;
      lines.push(d.text);
    }
    throw new ConfigError(`invalid configuration:\n  ${lines.join('\n  ')}`, firstKey);
  }
  const t = data;
  const subnet = parseSubnet(t.subnet);
  if (!subnet) {
    throw new ConfigError(
      `${source}.subnet = ${JSON.stringify(t.subnet)}: not a network address (host bits must be zero, e.g. 10.77.10.0/24)`,
      `${source}.subnet`,
    );
  }
  if (hostCount(subnet) < FIRST_NODE_HOST + t.nodes.length + CONTAINER_ADDRESSES) {
    throw new ConfigError(
      `${source}.subnet = ${JSON.stringify(t.subnet)}: too small for ${t.nodes.length} nodes from host .${FIRST_NODE_HOST} and ${CONTAINER_ADDRESSES} container addresses at the top`,
      `${source}.subnet`,
    );
  }
  const names = new Set<string>();
  t.nodes.forEach((n, i) => {
    if (names.has(n.name)) {
      throw new ConfigError(`${source}.nodes[${i}].name = "${n.name}": node names must be unique`, `${source}.nodes[${i}].name`);
    }
    names.add(n.name);
  });
  const nfs = t.nodes.filter((n) => n.role === 'nfs');
  if (nfs.length > 1) {
    throw new ConfigError(`${source}.nodes: at most one node may have role "nfs" (found ${nfs.length})`, `${source}.nodes`);
  }
  if (!t.nodes.some((n) => n.role === 'edge')) {
    throw new ConfigError(`${source}.nodes: at least one node must have role "edge"`, `${source}.nodes`);
  }
  return t;
}
