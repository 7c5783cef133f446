// Test helpers for faults on a real testbed: `followme migrate` killed at a
// moment of its progress, where a container runs, and what a migration left
// on the edges and the share.
import { join } from 'node:path';
import { execa } from 'execa';
import { expect } from 'vitest';
import type { Inventory } from '../../common/inventory.js';
import { withShare } from '../../experiment/containers.js';
import { containerState, deployContainer, removeContainer } from '../../migration/container.js';
import { unfinishedMigrations } from '../../migration/journal.js';
import { projectRoot } from '../../common/paths.js';
import { NotYet, poll, PollTimeoutError } from '../../common/poll.js';
import { TMPFS_ROOT } from '../../migration/storage/copied.js';
import { type NodeRunner, onNode } from './ssh.js';

export const EDGES = ['edge-a', 'edge-b'] as const;

/**
 * Starts `followme migrate` and kills it with SIGKILL `delayMs` after its progress shows `at` and, when `journaled` is
 * given, its journal entry's step passes that test (the engine prints a phase's line just before it journals the
 * step: a kill on the line alone can land in the step before). Returns what it printed.
 */
export async function migrateKilledAt(
  inventoryPath: string,
  args: string[],
  at: RegExp,
  delayMs: number,
  journaled?: { dir: string; step: (step: string) => boolean },
): Promise<string> {
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
      void untilJournaled(journaled).then(() => setTimeout(() => child.kill('SIGKILL'), delayMs));
    }
  });
  const r = await child;
  expect(r.signal, `migrate was to be killed at ${at}, but it ended by itself:\n${stderr}`).toBe('SIGKILL');
  return stderr;
}

const JOURNAL_POLL_MS = 10;
const JOURNAL_WAIT_MS = 10_000;

/** Polls the journal until an entry's step passes the test, for at most JOURNAL_WAIT_MS (the caller checks the step it got). */
async function untilJournaled(journaled: { dir: string; step: (step: string) => boolean } | undefined): Promise<void> {
  if (!journaled) return;
  // A read that fails (an entry replaced or removed between listing and reading) is one more "not yet".
  await poll(
    async () => {
      if (!unfinishedMigrations(journaled.dir).some((e) => journaled.step(e.step))) throw new NotYet('no entry at that step yet');
    },
    { timeoutMs: JOURNAL_WAIT_MS, intervalMs: JOURNAL_POLL_MS },
  ).catch((e: unknown) => {
    if (!(e instanceof PollTimeoutError)) throw e;
  });
}

/** Runs `fn` on a node over a fresh connection: the default of the checks below, which a suite may give kept ones. */
const freshConnections =
  (inv: Inventory): NodeRunner =>
  (name, fn) =>
    onNode(inv, name, fn);

export async function runningOn(inv: Inventory, name: string, on: NodeRunner = freshConnections(inv)): Promise<string[]> {
  const where: string[] = [];
  for (const e of EDGES) if ((await on(e, (c) => containerState(c, name))) === 'RUNNING') where.push(e);
  return where;
}

/** Everything a migration could leave on an edge, listed; empty when clean. */
export async function leftovers(inv: Inventory, name: string, where: string, on: NodeRunner = freshConnections(inv)): Promise<string[]> {
  const found: string[] = [];
  for (const e of EDGES) {
    await on(e, async (c) => {
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
    await on('nfs', async (c) => {
      // Each left directory with what is in it (an .nfs… file is one an edge still holds open).
      const r = await c.run([
        'sh',
        '-c',
        'cd "$0"/migrations 2>/dev/null && for d in *; do [ -e "$d" ] && echo "$d: $(find "$d" -mindepth 1 | head -8 | tr "\n" " ")"; done; exit 0',
        inv.nfs!.export,
      ]);
      found.push(
        ...r.stdout
          .split('\n')
          .filter(Boolean)
          .map((l) => `nfs: migrations/${l}`),
      );
    });
    if (found.some((l) => l.startsWith('nfs: '))) {
      // Who holds files there open.
      for (const e of EDGES)
        await on(e, async (c) => {
          const r = await c.run([
            'sh',
            '-c',
            'for p in /proc/[0-9]*; do for f in "$p"/fd/*; do l=$(readlink "$f" 2>/dev/null) || continue; case "$l" in "$0"/*) echo "$(basename "$p") $(cat "$p/comm") $l";; esac; done; done; exit 0',
            `${inv.nfs!.mountPoint}/migrations`,
          ]);
          found.push(
            ...r.stdout
              .split('\n')
              .filter(Boolean)
              .map((l) => `${e}: holds ${l}`),
          );
        });
    }
  }
  return found;
}

/** The blank container on edge-a at the testbed's last container address (its rootfs on the share when there is one); returns its address. */
export async function deployBlankOnEdgeA(inv: Inventory, name: string): Promise<string> {
  const addr = inv.containerAddresses[3]!;
  await withShare(inv, (shared) =>
    onNode(inv, 'edge-a', (c) =>
      deployContainer(
        c,
        { name, ip: addr.ip, prefixLength: Number(inv.subnet.split('/')[1]), mac: addr.mac, bridge: 'br0' },
        { template: 'blank' },
        shared ? { shared } : {},
      ),
    ),
  );
  return addr.ip;
}

/** Removes the container from both edges (and the share). */
export async function removeEverywhere(inv: Inventory, name: string): Promise<void> {
  await withShare(inv, async (shared) => {
    for (const e of EDGES) await onNode(inv, e, (c) => removeContainer(c, name, shared ? { shared } : {}));
  });
}
