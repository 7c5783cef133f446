// Where a migration's daemons listen and keep their files: derived from its
// id, so recover finds them again from the journal alone.
import { underBase } from '../../common/input/remote-path.js';
import { RECEIVER_RUN_BASE } from '../edge.js';

/** Ports of one migration, spread by its id so concurrent migrations do not collide. */
export function portsFor(id: string): { receiver: number; pageServer: number } {
  let h = 0;
  for (const ch of id) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  const slot = h % 5000;
  return { receiver: 20000 + slot * 2, pageServer: 30000 + slot * 2 };
}

/** Where a migration's rsync daemon keeps its config and pid file (`-back`: the one a rollback starts on the source). */
export function receiverRunDir(id: string, suffix = ''): string {
  return underBase(RECEIVER_RUN_BASE, `followme-rsyncd-${id}${suffix}`);
}
