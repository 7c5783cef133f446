// The CLI's flags, checked: each command turns its raw flags into checked
// values with these before it creates anything or opens any connection. A
// bad flag is a ConfigError naming it (exit 2).
import { type Stats, statSync } from 'node:fs';
import { ConfigError } from '../common/errors.js';
import type { Inventory, InventoryNode } from '../common/inventory.js';
import { hasBreakOrNul, shown } from '../common/input/clip.js';
import { CONTAINER_NAME_PATTERN, WHOLE_NUMBER_PATTERN } from '../common/input/patterns.js';

/** A whole number from `min` to `max`, written in decimal digits. */
export function wholeNumber(flag: string, value: string, min: number, max: number): number {
  if (!new RegExp(WHOLE_NUMBER_PATTERN).test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(`--${flag}: must be a whole number from ${min} to ${max}, got ${shown(value)}`, flag);
  }
  return Number(value);
}

/** A decimal number from `min` to `max` (e.g. a speed). */
export function decimalNumber(flag: string, value: string, min: number, max: number): number {
  if (!/^\d{1,9}(\.\d{1,6})?$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(`--${flag}: must be a number from ${min} to ${max}, got ${shown(value)}`, flag);
  }
  return Number(value);
}

/** A container name: it becomes a directory under /var/lib/lxc and a value in its LXC config. */
export function containerName(flag: string, value: string): string {
  if (!new RegExp(CONTAINER_NAME_PATTERN).test(value)) {
    throw new ConfigError(`--${flag}: ${shown(value)} is not a container name (1 to 63 letters, digits, _ . -, starting with a letter or digit)`, flag);
  }
  return value;
}

/** One of `allowed`, looked up as a value, never as a property of an object. */
export function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  const found = allowed.find((a) => a === value);
  if (found === undefined) throw new ConfigError(`--${flag}: unknown value ${shown(value)}; allowed: ${allowed.join(', ')}`, flag);
  return found;
}

/** An edge of the testbed named in the inventory. */
export function edgeOf(inv: Inventory, flag: string, name: string): InventoryNode {
  const n = inv.nodes.find((x) => x.name === name && x.role === 'edge');
  if (!n) throw new ConfigError(`--${flag}: ${shown(name)} is not an edge of testbed ${inv.prefix}; edges: ${edges(inv).join(', ')}`, flag);
  return n;
}

export function edges(inv: Inventory): string[] {
  return inv.nodes.filter((x) => x.role === 'edge').map((x) => x.name);
}

/** A directory the CLI writes into: a usable path that is a directory, or nothing yet. */
export function outputDir(flag: string, value: string): string {
  const path = outputPath(flag, value);
  let st: Stats | undefined;
  try {
    st = statSync(path);
  } catch {
    st = undefined; // absent (made later), or unreachable (said when it is made)
  }
  if (st && !st.isDirectory()) throw new ConfigError(`--${flag}: ${shown(value)} exists and is not a directory`, flag);
  return path;
}

/** A file the CLI writes (records): a path without NUL or line breaks. */
export function outputPath(flag: string, value: string): string {
  if (value.length === 0 || value.length > 4096 || hasBreakOrNul(value)) {
    throw new ConfigError(`--${flag}: ${shown(value)} is not a usable file path`, flag);
  }
  return value;
}
