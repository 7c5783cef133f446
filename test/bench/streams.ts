// npm run bench -- streams: live TCP streams through repeated migrations
// (issue #20). In the sandbox, on a two-vm testbed, a progressive download
// of the video and the tcp workload's two full streams are each moved back
// and forth by tmpfs and diskless (streams-vms.ts); this prints, per
// container, each move, what its client saw (bytes checked, connections,
// the first error and when) and the state the server checked. Figures, not
// assertions: the test of the same is in npm test.
import { runSandboxed } from './sandboxed.js';

export function benchStreams(): Promise<Record<string, string>> {
  return runSandboxed('dist/test/bench/streams-vms.js', 'streams');
}
