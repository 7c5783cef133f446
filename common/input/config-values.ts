// Values written into configuration files on the nodes (LXC configs,
// rsyncd.conf, exports): those formats have no quoting, so a value with a
// line break or a stray character could add a line of its own. Builders
// check every value here and throw instead of writing it.
import { ConfigError } from '../errors.js';
import { clip } from './clip.js';
import { IPV4_PATTERN, MAC_PATTERN, PLAIN_ABSOLUTE_PATH_PATTERN } from './patterns.js';

export class UnsafeConfigValueError extends ConfigError {
  override name = 'UnsafeConfigValueError';
}

/** What each kind of config value may be; the backtracking test runs each. */
export const CONFIG_VALUE_PATTERNS = {
  ipv4: new RegExp(IPV4_PATTERN),
  mac: new RegExp(MAC_PATTERN),
  path: new RegExp(PLAIN_ABSOLUTE_PATH_PATTERN),
  /** Container names, module names, interface names: a plain token. */
  token: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/,
  port: /^(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$/,
  prefixLength: /^(?:[0-9]|[12][0-9]|3[0-2])$/,
  /** An MTU: 576 to 9000 bytes, digits only. */
  mtu: /^(?:57[6-9]|5[89][0-9]|[6-9][0-9]{2}|[1-8][0-9]{3}|9000)$/,
} as const;

/** `value` as it may be written into `file` as `what`; throws UnsafeConfigValueError otherwise. */
export function configValue(file: string, what: string, kind: keyof typeof CONFIG_VALUE_PATTERNS, value: string | number): string {
  const text = String(value);
  if (!CONFIG_VALUE_PATTERNS[kind].test(text))
    throw new UnsafeConfigValueError(`${file}: ${what} ${clip(JSON.stringify(text))} is not a plain ${kind}; not writing it`, what);
  return text;
}
