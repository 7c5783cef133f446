// The strategy registry: the one list of strategies. The CLI's choices, the
// record, journal, plan and results schemas (through ajv's `registered`
// keyword), the orphan scan, the fault matrix and the report's order all
// read it; index.ts registers the built-in ones.
import { ConfigError } from '../../common/errors.js';
import { shown } from '../../common/input/clip.js';
import { provideNames } from '../../common/input/registered.js';
import type { Strategy } from '../engine/types.js';

/** Lower-case letters and digits: a name is part of migration ids (…-NAME-CONTAINER-hex), so it carries no dash. */
export const STRATEGY_NAME = /^[a-z][a-z0-9]{1,19}$/;

const strategies = new Map<string, Strategy>();
provideNames('strategy', () => [...strategies.keys()]);

/** Adds a strategy; returns what takes it out again (tests register their own). */
export function registerStrategy(s: Strategy): () => void {
  if (!STRATEGY_NAME.test(s.name)) throw new Error(`strategy name ${shown(s.name)}: lower-case letters and digits, 2 to 20, starting with a letter`);
  if (strategies.has(s.name)) throw new Error(`strategy ${s.name} is registered twice`);
  strategies.set(s.name, s);
  return () => void strategies.delete(s.name);
}

/** Every strategy's name, in the order they were registered (the report's order). */
export function strategyNames(): string[] {
  return [...strategies.keys()];
}

export function registeredStrategies(): Strategy[] {
  return [...strategies.values()];
}

export function strategyNamed(name: string): Strategy {
  const s = strategies.get(name);
  if (!s) throw new ConfigError(`--strategy: unknown strategy ${shown(name)}; allowed: ${strategyNames().join(', ')}`, 'strategy');
  return s;
}
