// The strategy registry: adding a strategy is one file and one line here.
import { ConfigError } from '../../common/errors.js';
import { shown } from '../../common/input/clip.js';
import { STRATEGY_NAMES, type StrategyName } from '../record/schema.js';
import type { Strategy } from '../engine/types.js';
import { diskless } from './diskless.js';
import { shared } from './shared.js';
import { tmpfs } from './tmpfs.js';

export const STRATEGIES: Record<StrategyName, Strategy> = { tmpfs, diskless, shared };

export function strategyNamed(name: string): Strategy {
  // Looked up as an own key only: "toString" or "__proto__" are not strategies.
  const s = Object.hasOwn(STRATEGIES, name) ? STRATEGIES[name as StrategyName] : undefined;
  if (!s) throw new ConfigError(`--strategy: unknown strategy ${shown(name)}; allowed: ${STRATEGY_NAMES.join(', ')}`, 'strategy');
  return s;
}
