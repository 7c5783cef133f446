// Reads a testbed topology from a Pulumi stack config file
// (stacks/Pulumi.<stack>.yaml, key `followme:topology`), so the Pulumi
// program and the CLI-less runner read the very same file.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { ConfigError } from '../../common/errors.js';
import { projectRoot } from '../paths.js';
import type { Topology } from './schema.js';
import { validateTopology } from './validate.js';

export const TOPOLOGY_KEY = 'followme:topology';

export function stacksDir(): string {
  return join(projectRoot(), 'stacks');
}

export function knownStacks(): string[] {
  return readdirSync(stacksDir())
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

export function stackConfigPath(stack: string): string {
  const stacks = knownStacks();
  if (!stacks.includes(stack)) {
    throw new ConfigError(`unknown stack "${stack}"; known stacks: ${stacks.join(', ')}`, 'stack');
  }
  return join(stacksDir(), `Pulumi.${stack}.yaml`);
}

/** Loads and validates the topology in a stack config file. */
export function loadTopologyFile(path: string): Topology {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read config file ${path}: ${(cause as Error).message}`, 'config', { cause });
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (cause) {
    throw new ConfigError(`${path}: not valid YAML: ${(cause as Error).message}`, 'config', { cause });
  }
  const config = (doc as { config?: Record<string, unknown> } | null)?.config;
  if (!config || typeof config !== 'object' || !(TOPOLOGY_KEY in config)) {
    throw new ConfigError(`${path}: missing key config."${TOPOLOGY_KEY}"`, TOPOLOGY_KEY);
  }
  const shown = relative(process.cwd(), path) || path;
  return validateTopology(config[TOPOLOGY_KEY], `${shown}: ${TOPOLOGY_KEY}`);
}

export function loadStack(stack: string): Topology {
  return loadTopologyFile(stackConfigPath(stack));
}
