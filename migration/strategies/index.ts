// The built-in strategies: adding one is one file and one line here. The
// paper's three come first (the replica); the rest go beyond it.
import { adaptive } from './adaptive.js';
import { diskless } from './diskless.js';
import { hybrid } from './hybrid.js';
import { lean } from './lean.js';
import { postcopy } from './postcopy.js';
import { registerStrategy } from './registry.js';
import { shared } from './shared.js';
import { sharedlean } from './sharedlean.js';
import { tmpfs } from './tmpfs.js';

for (const s of [tmpfs, diskless, shared, adaptive, lean, sharedlean, postcopy, hybrid]) registerStrategy(s);

export { registeredStrategies, registerStrategy, strategyNamed, strategyNames } from './registry.js';
