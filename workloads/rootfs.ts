// Writing into a new container's root file system, on the node that holds
// it (the edge, or the NFS server for a shared rootfs), before it starts.
import type { Readable } from 'node:stream';
import { underBase } from '../common/input/remote-path.js';
import type { SshConnection } from '../common/ssh/transport.js';

/** Writes `input` to rootfs/dirs…/name (made if need be), whole or not at all (a partial file, then a rename). Returns the path. */
export async function putInRootfs(
  node: SshConnection,
  rootfs: string,
  dirs: readonly string[],
  name: string,
  input: string | Readable,
  opts: { timeoutMs?: number } = {},
): Promise<string> {
  const dir = underBase(rootfs, ...dirs);
  const path = underBase(dir, name);
  await node.check(['mkdir', '-p', dir]);
  await node.check(['sh', '-c', 'cat > "$0.partial" && mv "$0.partial" "$0"', path], { input, ...opts });
  return path;
}
