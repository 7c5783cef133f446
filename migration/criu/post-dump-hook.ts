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
// (checked against LINK_NAME_PATTERN, quoted) that are veth devices: the
// edge's own NIC and bridge are never touched. It always exits 0, since a
// non-zero exit makes CRIU resume a container whose link may already be down.
import { shellQuote } from '../../common/ssh/quote.js';
import { LINK_NAME_PATTERN } from './commands.js';

/** Where the hook lives: in the migration's work directory on the source, removed with it (not in an iteration's directory, which a retried dump makes afresh). */
export const postDumpHookPath = (workDir: string): string => `${workDir}/followme-post-dump`;

export function postDumpHook(hostLinks: readonly string[]): string {
  for (const l of hostLinks) if (!LINK_NAME_PATTERN.test(l)) throw new Error(`post-dump hook: ${JSON.stringify(l)} is not an interface name`);
  return `#!/bin/sh
# followme: CRIU post-dump hook (migration/criu/post-dump-hook.ts)
[ "$CRTOOLS_SCRIPT_ACTION" = post-dump ] || exit 0
down_veth() {
  if [ -n "$(ip -o link show dev "$1" type veth 2>/dev/null)" ] && ip link set dev "$1" down; then
    echo "followme post-dump: $1 down" >&2
  else
    echo "followme post-dump: $1 is not a veth here, left alone" >&2
  fi
}
${hostLinks.map((l) => `down_veth ${shellQuote(l)}`).join('\n')}
exit 0
`;
}
