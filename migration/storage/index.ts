// The storage drivers: adding one is one file and one line here.
import { copied } from './copied.js';
import { shared } from './shared.js';
import { sharedRootfs } from './shared-rootfs.js';
import type { StorageDriver } from './types.js';

export const STORAGE_DRIVERS: readonly StorageDriver[] = [copied, shared, sharedRootfs];
