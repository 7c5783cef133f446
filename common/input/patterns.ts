// The shapes of names, addresses and paths that come from input, in one
// place: JSON schemas use them as `pattern`, code as RegExps.

/** A dotted quad, each part 0–255 written without leading zeros (they would reach configs as written). */
const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
export const IPV4_PATTERN = `^${OCTET}(?:\\.${OCTET}){3}$`;
/** An IPv4 network in CIDR notation; the semantic rules are in net-rules.ts. */
export const CIDR_PATTERN = `^${OCTET}(?:\\.${OCTET}){3}/(?:[0-9]|[12][0-9]|3[0-2])$`;
/** Six colon-separated hex bytes. */
export const MAC_PATTERN = '^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}$';
/** A testbed node: lower-case letters, digits, dashes; starts with a letter. */
export const NODE_NAME_PATTERN = '^[a-z][a-z0-9-]{0,14}$';
/** A testbed prefix: every libvirt object is named after it. */
export const PREFIX_PATTERN = '^[a-z][a-z0-9]{1,11}$';
/** A container: a directory under /var/lib/lxc and an LXC config value, so no '/', no '..', no spaces. */
export const CONTAINER_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$';
/** A libvirt domain name as followme makes it (<prefix>-<node>). */
export const DOMAIN_NAME_PATTERN = '^[a-z][a-z0-9-]{1,40}$';
/** A POSIX user name. */
export const USER_NAME_PATTERN = '^[a-z_][a-z0-9_-]{0,31}$';
/**
 * An absolute path of plain characters: it reaches configs (exports, fstab)
 * as written. Each repeated part ends in its '/', so a string splits into
 * parts one way only: no nested quantifier can backtrack exponentially
 * (the earlier `(?:[…]+/?)*` took hours on '/' + 40 letters + '!').
 */
export const PLAIN_ABSOLUTE_PATH_PATTERN = '^/(?:[A-Za-z0-9._-]+/)*[A-Za-z0-9._-]*$';
/** An absolute path on the controller: anything but NUL and line breaks. */
export const ABSOLUTE_PATH_PATTERN = '^/[^\\u0000\\n\\r]*$';
/** An OpenSSH ed25519 public key line. */
export const ED25519_PUBLIC_KEY_PATTERN = '^ssh-ed25519 [A-Za-z0-9+/]+={0,2}(?: [\\x20-\\x7e]*)?$';
/** A migration id as migrate makes it, or any plain token of that alphabet (recover --id). */
export const MIGRATION_ID_PATTERN = '^[A-Za-z0-9_.-]{1,200}$';
/** A whole number in decimal digits, as a flag gives it. */
export const WHOLE_NUMBER_PATTERN = '^[0-9]{1,9}$';
/** A stack name (stacks/Pulumi.<stack>.yaml). */
export const STACK_NAME_PATTERN = '^[a-z0-9][a-z0-9-]{0,39}$';

export const matches = (pattern: string, value: string): boolean => new RegExp(pattern).test(value);
