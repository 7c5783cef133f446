// Reads a testbed topology from a Pulumi stack config file
// (stacks/Pulumi.<stack>.yaml, key `followme:topology`), so the Pulumi
// program and the CLI-less runner read the very same file.
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ConfigError } from '../../common/errors.js';
import { shown } from '../../common/input/clip.js';
import { readYamlInput } from '../../common/input/yaml.js';
import { projectRoot } from '../../common/paths.js';
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
    throw new ConfigError(`--stack: unknown stack ${shown(stack)}; known stacks: ${stacks.join(', ')}`, 'stack');
  }
  return join(stacksDir(), `Pulumi.${stack}.yaml`);
}

/** Loads and validates the topology in a stack config file. */
export function loadTopologyFile(path: string): Topology {
  const doc = readYamlInput(path, { what: 'config file', key: 'config' });
  const config = (doc as { config?: Record<string, unknown> } | null)?.config;
  if (!config || typeof config !== 'object' || Array.isArray(config) || !Object.hasOwn(config, TOPOLOGY_KEY)) {
    throw new ConfigError(`${path}: missing key config."${TOPOLOGY_KEY}"`, TOPOLOGY_KEY);
  }
  const shown = relative(process.cwd(), path) || path;
  return validateTopology(config[TOPOLOGY_KEY], `${shown}: ${TOPOLOGY_KEY}`);
}

export function loadStack(stack: string): Topology {
  return loadTopologyFile(stackConfigPath(stack));
}
