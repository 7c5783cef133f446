// The controller killed with SIGKILL in the middle of a migration, once per
// strategy at a different moment, then `followme recover`: the container
// runs in exactly one place with its count going on, nothing of the
// migration is left on the edges (or the share), a second recover finds
// nothing, and the next migration of the container succeeds.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { execa } from 'execa';
import { join } from 'node:path';
import { readInventory, type Inventory } from '../../common/inventory.js';
import { projectRoot } from '../../common/paths.js';
import { withShare } from '../../experiment/containers.js';
import { deployContainer, removeContainer } from '../../migration/container.js';
import { journalDirFor, unfinishedMigrations } from '../../migration/journal.js';
import { TMPFS_ROOT } from '../../migration/strategies/tmpfs.js';
import { followme } from './cli.js';
import { countAtLeast, expectCountContinues, stateOn } from './migration-helpers.js';
import { onNode } from './ssh.js';

const EDGES = ['edge-a', 'edge-b'] as const;

/** Starts `followme migrate` and kills it with SIGKILL `delayMs` after its progress shows `at`; returns what it printed. */
async function migrateKilledAt(inventoryPath: string, args: string[], at: RegExp, delayMs: number): Promise<string> {
  const child = execa('node', [join(projectRoot(), 'dist/cli/main.js'), 'migrate', '--inventory', inventoryPath, ...args], {
    reject: false,
    timeout: 10 * 60_000,
  });
  let stderr = '';
  let armed = false;
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    if (!armed && at.test(stderr)) {
      armed = true;
      setTimeout(() => child.kill('SIGKILL'), delayMs);
    }
  });
  const r = await child;
  expect(r.signal, `migrate was to be killed at ${at}, but it ended by itself:\n${stderr}`).toBe('SIGKILL');
  return stderr;
}

async function runningOn(inv: Inventory, name: string): Promise<string[]> {
  const where: string[] = [];
  for (const e of EDGES) if ((await stateOn(inv, e, name)) === 'RUNNING') where.push(e);
  return where;
}

/** Everything a migration could leave on an edge, listed; empty when clean. */
async function leftovers(inv: Inventory, name: string, where: string): Promise<string[]> {
  const found: string[] = [];
  for (const e of EDGES) {
    await onNode(inv, e, async (c) => {
      const r = await c.run([
        'sh',
        '-c',
        'ls -A "$0" 2>/dev/null | sed "s|^|work dir |"; ls /run | grep "^followme-rsyncd-" | sed "s|^|rsync daemon |"; pgrep -a -x criu | sed "s|^|criu |"; exit 0',
        TMPFS_ROOT,
      ]);
      found.push(
        ...r.stdout
          .split('\n')
          .filter(Boolean)
          .map((l) => `${e}: ${l}`),
      );
      if (e !== where && (await c.run(['test', '-e', `/var/lib/lxc/${name}`])).exitCode === 0) found.push(`${e}: /var/lib/lxc/${name}`);
    });
  }
  if (inv.nfs) {
    await onNode(inv, 'nfs', async (c) => {
      const r = await c.run(['sh', '-c', 'ls -A "$0"/migrations 2>/dev/null; exit 0', inv.nfs!.export]);
      found.push(
        ...r.stdout
          .split('\n')
          .filter(Boolean)
          .map((l) => `nfs: migrations/${l}`),
      );
    });
  }
  return found;
}

interface Case {
  strategy: 'tmpfs' | 'diskless' | 'shared';
  /** The progress line after which the controller dies, and how long after it. */
  at: RegExp;
  delayMs: number;
  /** Where the container may be after recover (a restore in flight may finish or not). */
  expectOn: 'source' | 'destination' | 'either';
}

function recoverSuite(stack: 'twoVmInventory' | 'threeVmNfsInventory', name: string, cases: Case[]) {
  const inventoryPath = () => inject(stack);
  const inv = () => readInventory(inventoryPath());
  let ip = '';
  let count = 0;

  beforeAll(async () => {
    const i = inv();
    const addr = i.containerAddresses[3]!;
    ip = addr.ip;
    await withShare(i, (shared) =>
      onNode(i, 'edge-a', (c) =>
        deployContainer(
          c,
          { name, ip: addr.ip, prefixLength: Number(i.subnet.split('/')[1]), mac: addr.mac, bridge: 'br0' },
          { template: 'blank' },
          shared ? { shared } : {},
        ),
      ),
    );
    count = await countAtLeast(ip, 50);
  });

  afterAll(async () => {
    const i = inv();
    await withShare(i, async (shared) => {
      for (const e of EDGES) await onNode(i, e, (c) => removeContainer(c, name, shared ? { shared } : {}));
    });
  });

  for (const c of cases) {
    it(`${c.strategy}: killed ${c.delayMs} ms after "${c.at.source}", recover leaves ${name} running once with its count, and the next migration succeeds`, async () => {
      const i = inv();
      const [from] = await runningOn(i, name);
      expect(from).toBeDefined();
      const to = from === 'edge-a' ? 'edge-b' : 'edge-a';
      const printed = await migrateKilledAt(inventoryPath(), ['--strategy', c.strategy, '--from', from!, '--to', to, '--container', name], c.at, c.delayMs);

      // The journal holds the migration and the step it was at.
      const [entry] = unfinishedMigrations(journalDirFor(i.prefix));
      expect(entry, printed).toMatchObject({ container: name, strategy: c.strategy, from, to });

      // Refused until recovered.
      const refused = await followme(['migrate', '--inventory', inventoryPath(), '--strategy', c.strategy, '--from', from!, '--to', to, '--container', name]);
      expect(refused.exitCode, refused.stderr).toBe(3);
      expect(refused.stderr).toContain(`run \`followme recover --inventory FILE --id ${entry!.id}\` first`);

      const rec = await followme(['recover', '--inventory', inventoryPath()], { timeoutMs: 8 * 60_000 });
      expect(rec.exitCode, `${rec.stdout}\n${rec.stderr}`).toBe(0);
      expect(rec.stdout).toMatch(new RegExp(`^${entry!.id}: settled: ${name} runs on edge-[ab]$`, 'm'));
      const now = await runningOn(i, name);
      expect(now, rec.stdout).toHaveLength(1);
      if (c.expectOn !== 'either') expect(now[0]).toBe(c.expectOn === 'source' ? from : to);
      count = await expectCountContinues(ip, count);
      expect(await leftovers(i, name, now[0]!)).toEqual([]);
      expect(unfinishedMigrations(journalDirFor(i.prefix))).toEqual([]);

      const again = await followme(['recover', '--inventory', inventoryPath()]);
      expect(again.exitCode, again.stderr).toBe(0);
      expect(again.stdout).toContain('nothing to recover');

      // The next migration of the container succeeds.
      const next = now[0] === 'edge-a' ? 'edge-b' : 'edge-a';
      const moved = await followme([
        'migrate',
        '--inventory',
        inventoryPath(),
        '--strategy',
        c.strategy,
        '--from',
        now[0]!,
        '--to',
        next,
        '--container',
        name,
        '--predumps',
        '0',
      ]);
      expect(moved.exitCode, moved.stderr).toBe(0);
      expect(await runningOn(i, name)).toEqual([next]);
      count = await expectCountContinues(ip, count);
    });
  }
}

describe('controller killed mid-migration, then recover (two-vm)', () => {
  recoverSuite('twoVmInventory', 'rec2', [
    // After the final dump: the container runs nowhere; its images are on both edges' tmpfs.
    { strategy: 'tmpfs', at: /final copy …/, delayMs: 300, expectOn: 'source' },
    // During a pre-dump: the container still runs on the source; a page server and the rsync daemon run on the destination.
    { strategy: 'diskless', at: /pre-dump 1 \(page server\) …/, delayMs: 200, expectOn: 'source' },
  ]);
});

describe('controller killed mid-migration, then recover (three-vm-nfs)', () => {
  recoverSuite('threeVmNfsInventory', 'rec3', [
    // During the restore: it may finish on the destination without its controller.
    { strategy: 'shared', at: /restore …/, delayMs: 500, expectOn: 'either' },
  ]);
});
