// A container on an edge, in domain verbs: deploy a container from one of
// the guest's templates, wait until it runs, remove it.
import { containerTemplateDir } from '../common/guest.js';
import { FollowmeError } from '../common/errors.js';
import { NotYet, poll, PollTimeoutError } from '../common/poll.js';
import { underBase } from '../common/input/remote-path.js';
import type { SshConnection } from '../common/ssh/transport.js';
import { LXC_PATH, lxc, lxcConfig, parseState, type ContainerSpec, type ContainerState } from './lxc/commands.js';

export async function containerState(c: SshConnection, name: string): Promise<ContainerState | undefined> {
  const r = await c.run(lxc.state(name), { timeoutMs: 30_000 });
  return r.exitCode === 0 ? parseState(r.stdout) : undefined;
}

/** Polls until the container has `state`, at most `timeoutMs`. */
export async function waitState(c: SshConnection, name: string, state: ContainerState, timeoutMs = 60_000): Promise<void> {
  try {
    await poll(
      async () => {
        const now = await containerState(c, name);
        if (now !== state) throw new NotYet(now ?? 'absent');
      },
      { timeoutMs, intervalMs: 250 },
    );
  } catch (e) {
    if (!(e instanceof PollTimeoutError)) throw e;
    throw new FollowmeError(`${c.target.node}: container ${name} is ${e.lastReason}, not ${state}, after ${timeoutMs / 1000} s`);
  }
}

/** Where a shared container's rootfs lives on the share. */
export function sharedRootfs(mountPoint: string, name: string): string {
  return underBase(mountPoint, 'containers', name, 'rootfs');
}

/** The NFS share as a shared container needs it: the server that exports it, and where edges mount it. */
export interface SharedStorage {
  /** A connection to the NFS server node, which copies the template into its export locally (fast), not over NFS. */
  server: SshConnection;
  exportDir: string;
  mountPoint: string;
}

/** What to deploy: a template of the guest image, and what to put into the copy before it starts. */
export interface DeploySource {
  /** The template's name (a workload): /var/lib/followme/templates/<template>. */
  template: string;
  /** Writes parameters and assets into the new rootfs, on the node that holds it (the edge, or the NFS server). */
  beforeStart?: (node: SshConnection, rootfs: string) => Promise<void>;
}

/**
 * Copies the template root file system, writes the config, starts it. With
 * `shared` the rootfs goes onto the NFS share (for the shared strategy) and
 * only the config stays in the edge's LXC directory.
 */
export async function deployContainer(
  c: SshConnection,
  spec: Omit<ContainerSpec, 'rootfs'>,
  from: DeploySource,
  opts: { shared?: SharedStorage } = {},
): Promise<ContainerSpec> {
  const templateDir = containerTemplateDir(from.template);
  const dir = underBase(LXC_PATH, spec.name);
  const shared = opts.shared;
  const full: ContainerSpec = { ...spec, rootfs: shared ? sharedRootfs(shared.mountPoint, spec.name) : `${dir}/rootfs` };
  // Built first: a value the config cannot hold stops the deploy before anything is made.
  const config = lxcConfig(full);
  for (const path of [dir, full.rootfs]) {
    if ((await c.run(['test', '-e', path])).exitCode === 0) {
      throw new FollowmeError(`${c.target.node}: ${path} exists already; remove container ${spec.name} first`);
    }
  }
  if ((await c.run(['test', '-d', templateDir])).exitCode !== 0) {
    throw new FollowmeError(`${c.target.node}: no container template ${templateDir} (an image built before this workload existed? rebuild it)`);
  }
  await c.check(['mkdir', '-p', dir]);
  if (shared) {
    const onServer = sharedRootfs(shared.exportDir, spec.name);
    await shared.server.check(['mkdir', '-p', onServer]);
    await shared.server.check(['cp', '-a', `${templateDir}/.`, `${onServer}/`], { timeoutMs: 300_000 });
    await from.beforeStart?.(shared.server, onServer);
  } else {
    await c.check(['mkdir', '-p', full.rootfs]);
    await c.check(['cp', '-a', `${templateDir}/.`, `${full.rootfs}/`], { timeoutMs: 300_000 });
    await from.beforeStart?.(c, full.rootfs);
  }
  await c.check(['tee', `${dir}/config`], { input: config });
  await c.check(lxc.start(spec.name), { timeoutMs: 120_000 });
  await waitState(c, spec.name, 'RUNNING');
  return full;
}

/**
 * Stops (kill after a grace period) and destroys the container; absent is
 * fine. With `shared`, its rootfs on the share goes too (removed on the server).
 */
export async function removeContainer(c: SshConnection, name: string, opts: { shared?: SharedStorage } = {}): Promise<void> {
  const state = await containerState(c, name);
  if (state !== undefined && state !== 'STOPPED') {
    await c.run(lxc.stop(name), { timeoutMs: 60_000 });
    if ((await containerState(c, name)) !== 'STOPPED') await c.check(lxc.kill(name));
  }
  // lxc-destroy also deletes a rootfs outside the LXC dir; a shared one is
  // removed only when asked for, below.
  await c.check(['rm', '-rf', '--one-file-system', underBase(LXC_PATH, name)], { timeoutMs: 300_000 });
  if (opts.shared)
    await opts.shared.server.check(['rm', '-rf', '--one-file-system', underBase(opts.shared.exportDir, 'containers', name)], { timeoutMs: 300_000 });
}
