// The strategy registry: adding a strategy is one file and one line here.
import { ConfigError } from '../../common/errors.js';
import { STRATEGY_NAMES, type StrategyName } from '../record/schema.js';
import type { Strategy } from '../engine/types.js';
import { diskless } from './diskless.js';
import { shared } from './shared.js';
import { tmpfs } from './tmpfs.js';

export const STRATEGIES: Record<StrategyName, Strategy> = { tmpfs, diskless, shared };

export function strategyNamed(name: string): Strategy {
  const s = (STRATEGIES as Record<string, Strategy>)[name];
  if (!s) throw new ConfigError(`--strategy: unknown strategy "${name}"; allowed: ${STRATEGY_NAMES.join(', ')}`, 'strategy');
  return s;
}
