// A remote command as data: what kind of step it is, its argv, its bound.
// Edge.exec runs every one the same way and reports its timing with its
// kind, so downtime, faults and tests match on kind, never on wording.

/** Every kind of command the engine, rollback and recover send to an edge. */
export const COMMAND_KINDS = [
  // CRIU
  'criu-pre-dump',
  'criu-dump',
  'criu-page-server',
  'criu-features',
  // doctor
  'criu-check',
  'criu-cpuinfo',
  'read-clock',
  'nfs-check',
  'criu-lazy-pages',
  'wait-lazy-dump',
  'fail-lazy-dump',
  'read-lazy-pages-log',
  'read-stats-dump',
  'read-stats-restore',
  'warm-kdat',
  // LXC
  'lxc-state',
  'lxc-pid',
  'lxc-restore',
  'lxc-kill',
  'lxc-destroy',
  'lxc-unfreeze',
  'links-up',
  'prepare-network',
  'forget-network',
  'probe-container',
  'versions',
  // rsync
  'rsync-rootfs',
  'rsync-rootfs-final',
  'rsync-images',
  'rsync-images-back',
  'rsync-final',
  'mark-rootfs',
  'rsync-daemon',
  'wait-listen',
  // files and directories
  'path-exists',
  'fs-type',
  'free-space',
  'mkdir',
  'make-dump-dirs',
  'empty-images-dir',
  'drop-copied-pages',
  'read-file',
  'read-config',
  'write-file',
  'remove-images',
  'remove-container-dir',
  'remove-config-dir',
  'remove-receiver-dir',
  // processes
  'wait-exit',
  'kill-pid-file',
  'kill-page-servers',
  'kill-restore',
  // recover
  'find-migration-processes',
  'wait-migration-processes',
  'kill-migration-processes',
  'list-work-dirs',
  'list-receivers',
  'drop-network-lock',
] as const;

export type CommandKind = (typeof COMMAND_KINDS)[number];

export interface EdgeCommand {
  kind: CommandKind;
  argv: readonly string[];
  /** Its bound; a command that takes longer fails (STEP_TIMEOUT_MS.quick when unset). */
  timeoutMs?: number;
  /** What it acted on, for a reader ("rsync images pre-1"); the kind when unset. */
  label?: string;
}

/** A command of `kind` running `argv`. */
export function command(kind: CommandKind, argv: readonly string[], more: Omit<EdgeCommand, 'kind' | 'argv'> = {}): EdgeCommand {
  return { kind, argv, ...more };
}
