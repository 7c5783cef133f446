// stay: the service never moves (the baseline every other policy is held against).
import { type HandoverPolicy, STAY } from './types.js';

export const stay: HandoverPolicy = {
  name: 'stay',
  summary: 'never migrate: the baseline',
  knowsPath: false,
  storage: 'none',
  decide: () => STAY,
};
