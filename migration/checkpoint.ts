// Checkpoint and restore of a container on one edge through lxc-checkpoint,
// with CRIU's own statistics read back as typed values. The strategies build
// on these (dump on the source, restore on the destination).
import type { SshConnection } from '../common/ssh/transport.js';
import { detached, lxc } from './lxc/commands.js';
import { parseDumpStats, parseRestoreStats, type DumpStats, type RestoreStats } from './criu/stats.js';
import { waitState } from './container.js';

/** Reads a (small, binary) file from the edge. */
export async function readRemoteFile(c: SshConnection, path: string): Promise<Buffer> {
  const r = await c.check(['base64', '-w0', path]);
  return Buffer.from(r.stdout.trim(), 'base64');
}

export async function checkpointAndStop(c: SshConnection, name: string, dir: string): Promise<{ stats: DumpStats; durationMs: number }> {
  await c.check(['mkdir', '-p', dir]);
  const r = await c.check(lxc.checkpointAndStop(name, dir), { timeoutMs: 300_000 });
  const stats = parseDumpStats(await readRemoteFile(c, `${dir}/stats-dump`), `${c.target.node}:${dir}/stats-dump`);
  return { stats, durationMs: r.durationMs };
}

/** Starts the restore detached and waits until LXC says RUNNING. */
export async function restore(c: SshConnection, name: string, dir: string, timeoutMs = 180_000): Promise<{ stats: RestoreStats; durationMs: number }> {
  const started = Date.now();
  await c.check(detached(lxc.restore(name, dir), `${dir}/lxc-restore.out`));
  await waitState(c, name, 'RUNNING', timeoutMs);
  const durationMs = Date.now() - started;
  const stats = parseRestoreStats(await readRemoteFile(c, `${dir}/stats-restore`), `${c.target.node}:${dir}/stats-restore`);
  return { stats, durationMs };
}
