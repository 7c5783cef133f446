// The CRIU features a strategy needs of both edges, by `criu check
// --feature` name (criu/cr-check.c). Each strategy declares its own; set-up
// refuses a migration whose strategy needs one an edge lacks, before
// anything is made, and `followme doctor` checks them all. CRIU has no
// feature named for lazy pages: they need userfaultfd (`uffd`) and its
// non-cooperative events (`uffd-noncoop`: a container's tasks fork, remap
// and unmap while their pages are still coming).
import { FollowmeError } from '../../common/errors.js';

export const CRIU_FEATURES = {
  mem_dirty_track: 'soft-dirty memory tracking: pre-dumps and --track-mem',
  uffd: 'userfaultfd: the lazy restore',
  'uffd-noncoop': "userfaultfd's non-cooperative events: the lazy restore of tasks that fork, remap and unmap",
  network_lock_nftables: 'the network locked with one nftables table (--network-lock nftables)',
  external_net_ns: 'the network namespace left out of the dump and joined on restore (--external net[…])',
} as const;

export type CriuFeature = keyof typeof CRIU_FEATURES;

/** Where an edge keeps the answers, for the CRIU binary and version that gave them: /run is a tmpfs, so a reboot (a new kernel) asks again. */
const CACHE = '/run/followme-criu-features';

/**
 * Prints each feature of "$@" that CRIU says the node lacks, one per line.
 * `criu check --feature` costs 0.1 to 0.3 s under TCG: the answers are kept
 * per CRIU version and asked only once per boot, unless `fresh` (the doctor)
 * asks CRIU itself.
 */
export function missingFeaturesScript(features: readonly CriuFeature[], opts: { fresh?: boolean } = {}): string[] {
  return [
    'sh',
    '-c',
    // Keyed by which criu answers and its version: another binary (a wrapper, an upgrade) is asked afresh.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion, not a template
    'v="$(command -v criu) $(criu --version 2>/dev/null | head -n 1)"; [ "${v#* }" != "" ] || { echo "criu: not installed"; exit 0; }; ' +
      `c=${opts.fresh ? '/dev/null' : CACHE}; for f; do ` +
      'a=$(grep -F -x -- "$v|$f|yes" "$c" 2>/dev/null || grep -F -x -- "$v|$f|no" "$c" 2>/dev/null); ' +
      'if [ -z "$a" ]; then if criu check --feature "$f" >/dev/null 2>&1; then a="$v|$f|yes"; else a="$v|$f|no"; fi; echo "$a" >> "$c"; fi; ' +
      'case "$a" in *"|no") echo "$f";; esac; done; exit 0',
    'criu-features',
    ...features,
  ];
}

/** A strategy's feature missing on an edge: nothing was done (exit 1). */
export class MissingFeatureError extends FollowmeError {
  override name = 'MissingFeatureError';
}

/** The refusal, naming each edge and what it lacks. */
export function missingFeaturesMessage(strategy: string, missing: ReadonlyMap<string, readonly string[]>): string {
  const lines = [...missing].map(([edge, fs]) => `${edge} lacks ${fs.map((f) => `${f} (${CRIU_FEATURES[f as CriuFeature] ?? 'CRIU itself'})`).join(', ')}`);
  return `strategy ${strategy} needs CRIU features that ${[...missing.keys()].join(' and ')} lack${missing.size === 1 ? 's' : ''}: ${lines.join('; ')}; nothing was done (\`followme doctor\` checks every edge)`;
}
