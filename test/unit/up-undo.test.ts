// testbed up stopped at a stage on one host: what it made on every host is
// removed again, newest first, and what it found is left as it was. The
// libvirt driver is replaced by a record of what would have been asked.
import { describe, expect, it, vi } from 'vitest';
import type { PlanItem } from '../../provision/plan/types.js';

const asked: string[] = [];
/** The error ensureItem throws for an item, if any. */
let failWith: (i: PlanItem) => Error | undefined = () => undefined;
let found: (i: PlanItem) => boolean = () => false;

vi.mock('../../provision/libvirt/driver.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../provision/libvirt/driver.js')>()),
  ensureItem: async (i: PlanItem) => {
    const e = failWith(i);
    if (e) throw e;
    asked.push(`ensure ${i.kind} ${i.name} @${i.uri}`);
    return found(i) ? 'adopted' : 'created';
  },
  deleteItem: async (i: PlanItem) => {
    asked.push(`delete ${i.kind} ${i.name} @${i.uri}`);
    return true;
  },
}));

const { applyOrUndo } = await import('../../provision/testbed/runner.js');
const { buildPlan } = await import('../../provision/plan/plan.js');
const { validateTopology } = await import('../../provision/topology/validate.js');
const { image, keysFor, twoVm } = await import('./fixtures.js');

const REMOTE = 'qemu+ssh://root@192.168.50.2/system';
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEzmBYRHu0SGVGxhZNqvPnAnP+9Cq8uZjvZ0lH0GkTtU lab2';

function acrossHosts() {
  const t = twoVm();
  const topology = validateTopology(
    {
      ...t,
      defaults: {},
      hosts: [
        { name: 'lab1', libvirtUri: 'qemu:///system', underlay: '192.168.50.1' },
        { name: 'lab2', libvirtUri: REMOTE, underlay: '192.168.50.2', sshHostKey: KEY },
      ],
      nodes: [
        { ...t.nodes[0], host: 'lab1' },
        { ...t.nodes[1], host: 'lab2' },
      ],
    },
    'cfg',
  );
  return { topology, plan: buildPlan({ topology, image, keys: keysFor(topology), hypervisors: { 'qemu:///system': 'qemu', [REMOTE]: 'qemu' } }) };
}

describe('testbed up stopped midway', () => {
  it('names the stage and the host, and removes what it made on both hosts, newest first', async () => {
    const { topology, plan } = acrossHosts();
    asked.length = 0;
    // Host 2 stops answering when its disks are made; the first host's pool was there already.
    failWith = (i) => (i.uri === REMOTE && i.kind === 'volume' && i.source !== 'upload' ? new Error(`virsh: cannot connect to ${i.uri}`) : undefined);
    found = (i) => i.kind === 'pool' && i.uri === 'qemu:///system';
    const err = await applyOrUndo(plan, topology, () => {}).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toMatch(/^up stopped at "disks and seeds" on lab2 \(qemu\+ssh:\/\/root@192\.168\.50\.2\/system\): virsh: cannot connect/);
    const made = asked.filter((a) => a.startsWith('ensure ') && !a.includes('pool fmtest-pool @qemu:///system')).map((a) => a.slice('ensure '.length));
    const removed = asked.filter((a) => a.startsWith('delete ')).map((a) => a.slice('delete '.length));
    // Everything made, on either host, is removed; newest first (domains none, then disks, images, ports, bridges, pools).
    expect(removed).toEqual([...made].reverse());
    expect(removed).toEqual(expect.arrayContaining([`vxlan vx-fmtest @qemu:///system`, `vxlan vx-fmtest @${REMOTE}`, `network fmtest-net @${REMOTE}`]));
    // What it found (the first host's pool) stays.
    expect(removed).not.toContain('pool fmtest-pool @qemu:///system');
    expect(err!.message).toContain(`the ${made.length} objects it had made are removed`);
  });

  it('keeps the error of a conflict (its exit code) and removes nothing it found', async () => {
    const { topology, plan } = acrossHosts();
    const { ConflictError } = await import('../../common/errors.js');
    asked.length = 0;
    found = () => true;
    const conflict = new ConflictError('qemu:///system: domain fmtest-edge-a exists with another spec; run `followme testbed down` first');
    failWith = (i) => (i.kind === 'domain' && i.uri === 'qemu:///system' ? conflict : undefined);
    const err = await applyOrUndo(plan, topology, () => {}).catch((e: unknown) => e as Error);
    expect(err).toBe(conflict);
    expect(err!.message).toMatch(/^up stopped at "domains" on lab1 \(qemu:\/\/\/system\): qemu:\/\/\/system: domain fmtest-edge-a exists with another spec/);
    expect(err!.message).toContain('the 0 objects it had made are removed');
    expect(asked.filter((a) => a.startsWith('delete '))).toEqual([]);
  });
});
