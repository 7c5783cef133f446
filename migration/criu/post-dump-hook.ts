// CRIU's post-dump action script for a final dump: it takes the host side of
// the container's veth pairs down once the dump has succeeded, before CRIU
// kills the container.
//
// Why (issue #20, docs/tcp-streams.md): CRIU's network lock is a set of
// netfilter rules inside the container's network namespace. When the killed
// container's namespace is torn down, the kernel unregisters its netfilter
// hooks (nf_tables' pre_exit step) before it removes its devices; for those
// few milliseconds the veth is still a port of the edge's bridge, and a
// client's packet that reaches it finds neither a socket nor the lock, and
// is answered by a TCP reset. The client then drops the connection the
// destination is about to restore. A link that is down delivers nothing.
//
// CRIU runs the script (execvp, no arguments) at every action of the dump;
// it acts on post-dump only, and only on the links LXC named before the dump
// (setup keeps those that are veths; each checked against LINK_NAME_PATTERN
// and quoted here). It runs while the container is frozen, inside the
// downtime, so it starts no process: sh clears the link's up flag through
// sysfs (a write to `flags` is the kernel's dev_change_flags, as `ip link set
// down`; an `ip` costs about 90 ms under TCG). A link with a device behind
// it (the edge's NIC) or a bridge is left alone, so a wrong name can never
// cut the edge off. It always exits 0, since a non-zero exit makes CRIU
// resume a container whose link may already be down. FOLLOWME_SYSFS_NET
// (unset on the edges) points it at another tree, for its unit test.
import { shellQuote } from '../../common/ssh/quote.js';
import { LINK_NAME_PATTERN } from './commands.js';

/** Where the hook lives: in the migration's work directory on the source, removed with it (not in an iteration's directory, which a retried dump makes afresh). */
export const postDumpHookPath = (workDir: string): string => `${workDir}/followme-post-dump`;

export function postDumpHook(hostLinks: readonly string[]): string {
  for (const l of hostLinks) if (!LINK_NAME_PATTERN.test(l)) throw new Error(`post-dump hook: ${JSON.stringify(l)} is not an interface name`);
  return `#!/bin/sh
# followme: CRIU post-dump hook (migration/criu/post-dump-hook.ts)
[ "$CRTOOLS_SCRIPT_ACTION" = post-dump ] || exit 0
down_link() {
  n=\${FOLLOWME_SYSFS_NET:-/sys/class/net}/$1
  if [ -e "$n/flags" ] && [ ! -e "$n/device" ] && [ ! -e "$n/bridge" ] && read -r f < "$n/flags" && echo $((f & ~1)) > "$n/flags"; then
    echo "followme post-dump: $1 down" >&2
  else
    echo "followme post-dump: $1 left alone" >&2
  fi
}
${hostLinks.map((l) => `down_link ${shellQuote(l)}`).join('\n')}
exit 0
`;
}
