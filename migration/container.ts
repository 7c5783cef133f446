// A container on an edge, in domain verbs: deploy the blank container from
// the guest's template, wait until it runs, remove it.
import { CONTAINER_TEMPLATE_DIR } from '../provision/image/recipe.js';
import { FollowmeError } from '../provision/errors.js';
import type { SshConnection } from './ssh/transport.js';
import { LXC_PATH, lxc, lxcConfig, parseState, type ContainerSpec, type ContainerState } from './lxc/commands.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function containerState(c: SshConnection, name: string): Promise<ContainerState | undefined> {
  const r = await c.run(lxc.state(name), { timeoutMs: 30_000 });
  return r.exitCode === 0 ? parseState(r.stdout) : undefined;
}

/** Polls until the container has `state`, at most `timeoutMs`. */
export async function waitState(c: SshConnection, name: string, state: ContainerState, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  let last: ContainerState | undefined;
  while (Date.now() - started < timeoutMs) {
    last = await containerState(c, name);
    if (last === state) return;
    await sleep(250);
  }
  throw new FollowmeError(`${c.target.node}: container ${name} is ${last ?? 'absent'}, not ${state}, after ${timeoutMs / 1000} s`);
}

/** Copies the template root file system, writes the config, starts it. */
export async function deployBlank(c: SshConnection, spec: Omit<ContainerSpec, 'rootfs'>): Promise<ContainerSpec> {
  const dir = `${LXC_PATH}/${spec.name}`;
  const full: ContainerSpec = { ...spec, rootfs: `${dir}/rootfs` };
  if ((await c.run(['test', '-e', dir])).exitCode === 0) {
    throw new FollowmeError(`${c.target.node}: ${dir} exists already; remove container ${spec.name} first`);
  }
  await c.check(['mkdir', '-p', dir]);
  await c.check(['cp', '-a', `${CONTAINER_TEMPLATE_DIR}/.`, `${full.rootfs}/`], { timeoutMs: 300_000 });
  await c.check(['tee', `${dir}/config`], { input: lxcConfig(full) });
  await c.check(lxc.start(spec.name), { timeoutMs: 120_000 });
  await waitState(c, spec.name, 'RUNNING');
  return full;
}

/** Stops (kill after a grace period) and destroys the container; absent is fine. */
export async function removeContainer(c: SshConnection, name: string): Promise<void> {
  const state = await containerState(c, name);
  if (state === undefined) {
    await c.check(['rm', '-rf', `${LXC_PATH}/${name}`]);
    return;
  }
  if (state !== 'STOPPED') await c.run(lxc.stop(name), { timeoutMs: 60_000 });
  if ((await containerState(c, name)) !== 'STOPPED') await c.check(lxc.kill(name));
  await c.check(lxc.destroy(name), { timeoutMs: 120_000 });
}
