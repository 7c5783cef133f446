// Issue #23's post-copy strategies end to end on two edges (their blank
// moves are in showcase.test.ts, their faults in faults.test.ts): the
// video's one connection, every byte checked, through a move by postcopy
// there and hybrid back; the memory workload at 40 MB/s over 256 MB, its
// checksum going on through the same two moves, each record holding its
// lazy window; and the lazy window's risk: the source destroyed in it loses
// the state, the record says so with the pages that never arrived, recover
// settles the journal, and nothing runs twice.
import { afterAll, describe, expect, it } from 'vitest';
import { ensureContainer } from '../../experiment/containers.js';
import { faultInjector } from '../../experiment/faults.js';
import { migrate, MigrationFailedError } from '../../migration/engine/migrate.js';
import { recover } from '../../migration/engine/recover.js';
import { journalDirFor, unfinishedMigrations } from '../../migration/journal.js';
import { lxc } from '../../migration/lxc/commands.js';
import type { MigrationRecord } from '../../migration/record/schema.js';
import { LAZY_PAGES_PHASE } from '../../migration/strategies/lazy-steps.js';
import { eventually } from '../../workloads/http.js';
import { workloadNamed } from '../../workloads/index.js';
import { runningOn } from './fault-helpers.js';
import { keptConnections } from './ssh.js';
import { moveWithStreams, STREAM_SUBJECTS, streamContainers } from './stream-moves.js';

const LAZY = ['postcopy', 'hybrid'] as const;
const MEMORY = { rateMBps: 40, workingSetMB: 256 };

describe('the lazy strategies keep a live connection and the memory (two edges: postcopy there, hybrid back)', () => {
  const suite = streamContainers('twoVmInventory', LAZY);
  const kept = keptConnections(suite.inv);
  afterAll(() => kept.closeAll());

  it('video: the player’s one connection survives, every byte checked, the old copy silent', async () => {
    await moveWithStreams(suite.inv(), suite.container('lazy-video', 'video', 0), STREAM_SUBJECTS.progressive, LAZY);
  });

  it('memory at 40 MB/s over 256 MB: the checksum goes on; each record holds its lazy window', async () => {
    const c = suite.container('lazy-memory', 'memory', 1);
    const memory = workloadNamed('memory');
    let where = await ensureContainer(suite.inv(), c, MEMORY, () => undefined);
    const before = await eventually(() => memory.readState(c.ip));
    for (const strategy of LAZY) {
      const to = where === 'edge-a' ? 'edge-b' : 'edge-a';
      const r = await migrate({ inventory: suite.inv(), strategy, container: c.name, from: where, to });
      expect(r.outcome, `${strategy} ${where} → ${to}: ${r.error?.message}`).toBe('migrated');
      expect(r.problems).toBeUndefined();
      // The container ran on the destination before its last page came: the window is after the restore, inside the total.
      expect(r.lazy, strategy).toBeDefined();
      expect(r.lazy!.windowMs).toBeGreaterThan(0);
      expect(r.lazy!.lastPageAtMs!).toBeGreaterThan(r.lazy!.restoredAtMs);
      expect(r.freezeAtMs! + r.downtimeMs!).toBeCloseTo(r.lazy!.restoredAtMs, 3);
      // Most of 256 MB came lazily (postcopy) or before the restore (hybrid's rounds), and every lazy page arrived.
      expect(r.lazy!.pagesSentLazily).toBe(r.lazy!.pagesLazy);
      expect(r.lazy!.pagesLazy + (r.lazy!.pagesBeforeRestore ?? 0)).toBeGreaterThan((MEMORY.workingSetMB * 256) / 2);
      if (strategy === 'hybrid') expect(r.lazy!.pagesBeforeRestore).toBeGreaterThan(0);
      where = to;
    }
    const after = await eventually(() => memory.readState(c.ip));
    expect(after.intact, after.text).toBe(true);
    expect(after.progress).toBeGreaterThan(before.progress);
  });

  it('the source destroyed in the lazy window: the state is lost and said so, recover settles it, nothing runs twice', async () => {
    const c = suite.container('lazy-memory', 'memory', 1);
    const inv = suite.inv();
    const from = await ensureContainer(inv, c, MEMORY, () => undefined);
    const to = from === 'edge-a' ? 'edge-b' : 'edge-a';
    // A second into the window: 256 MB take far longer to arrive.
    const fault = faultInjector({ kind: 'source-destroyed', phase: LAZY_PAGES_PHASE, afterMs: 1_000 }, inv, from, to);
    let record: MigrationRecord | undefined;
    try {
      await migrate({ inventory: inv, strategy: 'postcopy', container: c.name, from, to, fault });
    } catch (e) {
      if (!(e instanceof MigrationFailedError)) throw e;
      record = e.record;
    }
    expect(record?.outcome).toBe('failed');
    expect(record!.error!.phase).toBe(LAZY_PAGES_PHASE);
    expect(record!.error!.stateLost).toMatch(/pages still on edge-[ab].*cannot arrive now/);
    expect(record!.lazy!.pagesNotArrived).toBeGreaterThan(0);
    expect(record!.fault).toMatchObject({ kind: 'source-destroyed', injected: true });
    // The source was down while the move settled: recover finishes it, once, and says the state is lost.
    const reports = await recover({ inventory: inv });
    expect(reports.map((r) => [r.settled, r.stateLost !== undefined, r.stoppedOn])).toEqual([[true, true, to]]);
    expect(unfinishedMigrations(journalDirFor(inv.prefix))).toEqual([]);
    expect(await runningOn(inv, c.name, kept.onNode)).toEqual([]);
    // Started anew on the destination, it runs there alone.
    expect((await kept.onNode(to, (conn) => conn.run(lxc.start(c.name)))).exitCode).toBe(0);
    expect(await runningOn(inv, c.name, kept.onNode)).toEqual([to]);
    const fresh = await eventually(() => workloadNamed('memory').readState(c.ip));
    expect(fresh.intact, fresh.text).toBe(true);
  });
});
