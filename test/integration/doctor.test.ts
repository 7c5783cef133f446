// followme doctor on the real corridor: every edge check passes on the
// healthy testbed, and each fails with its message when broken on purpose:
// the NFS server stopped, a CRIU feature made to look missing through a
// wrapper in front of criu on one edge (which `migrate` then refuses too,
// naming the edge and the feature, with nothing done), a clock set ahead,
// and a stack config whose subnet overlaps the testbed's.
import { afterAll, describe, expect, inject, it } from 'vitest';
import { readInventory } from '../../common/inventory.js';
import { loadStack } from '../../provision/topology/stack-config.js';
import { journalDirFor, unfinishedMigrations } from '../../migration/journal.js';
import { followme, writeStackConfig } from './cli.js';
import { deployBlankOnEdgeA, removeEverywhere, runningOn } from './fault-helpers.js';
import { keptConnections } from './ssh.js';

const inventoryPath = () => inject('corridorInventory');
const inv = () => readInventory(inventoryPath());
const doctor = (args: string[] = ['--inventory', inventoryPath()]) => followme(['doctor', ...args], { timeoutMs: 5 * 60_000 });
const lines = (out: string, verdict: string) => out.split('\n').filter((l) => l.startsWith(`${verdict} `));

/** Answers "missing" for one feature and passes everything else to the real criu (first on root's PATH). */
const WRAPPER =
  '#!/bin/sh\n[ "$1" = check ] && [ "$2" = --feature ] && [ "$3" = network_lock_nftables ] && { echo "not supported (followme test wrapper)" >&2; exit 1; }\nexec /usr/sbin/criu "$@"\n';

describe('followme doctor', () => {
  const kept = keptConnections(inv);
  afterAll(async () => {
    // Whatever a failed test left: the wrapper, the server, the clock.
    await kept.onNode('edge-b', (c) => c.run(['rm', '-f', '/usr/local/sbin/criu'])).catch(() => undefined);
    await kept.onNode('nfs', (c) => c.run(['systemctl', 'start', 'nfs-server'])).catch(() => undefined);
    await kept.onNode('edge-c', (c) => c.run(['date', '-s', `@${(Date.now() / 1000).toFixed(3)}`])).catch(() => undefined);
    kept.closeAll();
  });

  it('passes every edge check on the healthy testbed, one line each', async () => {
    const r = await doctor();
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect(lines(r.stdout, 'fail')).toEqual([]);
    for (const edge of ['edge-a', 'edge-b', 'edge-c']) {
      expect(r.stdout).toMatch(new RegExp(`^ok +${edge} +criu check: `, 'm'));
      for (const f of ['mem_dirty_track', 'network_lock_nftables', 'external_net_ns', 'uffd', 'uffd-noncoop'])
        expect(r.stdout).toMatch(new RegExp(`^ok +${edge} +criu feature ${f}: present`, 'm'));
      expect(r.stdout).toMatch(new RegExp(`^ok +${edge} +nfs share: /\\S+ mounted from `, 'm'));
    }
    expect(r.stdout).toMatch(/^ok +edge-a → edge-c +cpuinfo: /m);
    expect(r.stdout).toMatch(/^(ok|warn) +host +hypervisor: /m);
    expect(r.stdout).toMatch(/^ok +host +libvirt qemu:\/\/\/system: libvirt [\d.]+, QEMU [\d.]+$/m);
  });

  it('fails the share on every edge while the NFS server is stopped, naming the fix', async () => {
    await kept.onNode('nfs', (c) => c.check(['systemctl', 'stop', 'nfs-server']));
    try {
      const r = await doctor();
      expect(r.exitCode).toBe(1);
      for (const edge of ['edge-a', 'edge-b', 'edge-c'])
        expect(r.stdout).toMatch(new RegExp(`^fail +${edge} +nfs share: .*does not answer within 5 s — fix: start the NFS server on nfs`, 'm'));
      expect(r.stderr).toMatch(/doctor: 3 checks failed/);
    } finally {
      await kept.onNode('nfs', (c) => c.check(['systemctl', 'start', 'nfs-server']));
    }
  });

  it('fails a CRIU feature an edge lacks, naming who needs it, and migrate refuses that strategy there with nothing done', async () => {
    const name = 'doctorc';
    await deployBlankOnEdgeA(inv(), name);
    await kept.onNode('edge-b', (c) => c.check(['sh', '-c', 'cat > /usr/local/sbin/criu && chmod 755 /usr/local/sbin/criu'], { input: WRAPPER }));
    try {
      const r = await doctor();
      expect(r.exitCode).toBe(1);
      expect(lines(r.stdout, 'fail')).toEqual([
        expect.stringMatching(/^fail +edge-b +criu feature network_lock_nftables: missing: lean, sharedlean, postcopy, hybrid cannot run/),
      ]);
      // The container is on the share (the corridor has one): sharedlean is the strategy there that needs the feature.
      const refused = await followme([
        'migrate',
        '--inventory',
        inventoryPath(),
        '--strategy',
        'sharedlean',
        '--from',
        'edge-a',
        '--to',
        'edge-b',
        '--container',
        name,
      ]);
      expect(refused.exitCode, refused.stderr).toBe(1);
      expect(refused.stderr).toMatch(/strategy sharedlean needs CRIU features that edge-b lacks: edge-b lacks network_lock_nftables/);
      expect(await runningOn(inv(), name, kept.onNode)).toEqual(['edge-a']);
      expect(unfinishedMigrations(journalDirFor(inv().prefix))).toEqual([]);
      expect((await kept.onNode('edge-b', (c) => c.run(['test', '-e', `/var/lib/lxc/${name}`]))).exitCode).toBe(1);
    } finally {
      await kept.onNode('edge-b', (c) => c.check(['rm', '-f', '/usr/local/sbin/criu']));
      await removeEverywhere(inv(), name);
    }
  });

  it('fails the clocks when an edge runs ahead', async () => {
    await kept.onNode('edge-c', (c) => c.check(['sh', '-c', 'date -s "@$(( $(date +%s) + 30 ))" >/dev/null']));
    try {
      const r = await doctor();
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toMatch(/^fail +edge-a, edge-b, edge-c +clocks: .*edge-c is \d+ ms ahead of edge-[ab]/m);
    } finally {
      await kept.onNode('edge-c', (c) => c.check(['date', '-s', `@${(Date.now() / 1000).toFixed(3)}`]));
    }
  });

  it('fails the subnet of a config that overlaps the testbed, and checks no edge of a testbed that is not up', async () => {
    const config = writeStackConfig({ ...loadStack('corridor'), prefix: 'fmdoc' });
    const r = await doctor(['--config', config]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toMatch(/^fail +host +subnet: .*overlaps libvirt network "fmroad-net"/m);
    expect(r.stdout).toMatch(/^warn +edges +testbed: fmdoc is not up/m);
  });
});
