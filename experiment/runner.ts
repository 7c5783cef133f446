// The experiment runner: every planned run in order, each a migration of a
// workload's container to the other edge while a probe asks its service and
// the workload's client uses it. A run's record is appended to
// DIR/runs.jsonl as soon as it ends; a second start with the same plan and
// DIR skips the runs already there. The runner uses the engine; the engine
// does not know it.
import { strategyNamed } from '../migration/strategies/index.js';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { lock } from 'proper-lockfile';
import { ConfigError, FollowmeError } from '../common/errors.js';
import type { Inventory } from '../common/inventory.js';
import { migrate, MigrationFailedError } from '../migration/engine/migrate.js';
import { recover } from '../migration/engine/recover.js';
import { journalDirFor, unfinishedMigrations } from '../migration/journal.js';
import type { EventListener } from '../migration/engine/types.js';
import type { MigrationRecord } from '../migration/record/schema.js';
import { eventually } from '../workloads/http.js';
import { workloadNamed } from '../workloads/index.js';
import { stateProblem, type ClientReport, type StateReading } from '../workloads/types.js';
import { containerFor, edges, ensureContainer, removeContainers, type ExperimentContainer } from './containers.js';
import { checkResumable, newManifest, readManifest, writeManifest, type Manifest } from './manifest.js';
import { applyProfile, clearProfile, measurePath } from './network.js';
import { plannedRuns, type Plan, type PlannedRun } from './plan.js';
import { checkFaultTestbed, faultInjector, isInjectedFault } from './faults.js';
import { migrateKillingController } from './controller-killed.js';
import { startProbe, whenOnProbeClock } from './probe.js';
import { appendRun, dropTornTail, integrityNotes, readResults, timelinePath, type ControllerKilled, type RunRecord } from './results.js';

/** The runner's lock, inside the results directory. */
export const LOCK_NAME = '.lock';

/** Bounds of one run's probe and client: far above any migration here (TCG's slowest took about 2 minutes). */
const RUN_LIMIT_MS = 30 * 60_000;
/** After the move, the run waits for this many answers from the service (at most AFTER_WAIT_MS). */
const ANSWERS_AFTER = 20;
const AFTER_WAIT_MS = 120_000;

export interface Progress {
  /** Runs with a record, this session's and earlier ones'. */
  done: number;
  total: number;
  /** Finished before this session started (resumed). */
  skipped: number;
  current?: PlannedRun;
  /** Estimated time left, from this session's runs so far. */
  etaMs?: number;
  last?: RunRecord;
}

export interface ExperimentOptions {
  plan: Plan;
  planFile: string;
  inventory: Inventory;
  out: string;
  stack?: string;
  log: (line: string) => void;
  onProgress?: (p: Progress) => void;
  onEvent?: EventListener;
}

/** What the plan needs of the testbed, checked before anything is made. */
export function checkPlanFitsTestbed(plan: Plan, inv: Inventory): void {
  const onShare = plan.strategies.filter((s) => strategyNamed(s).storage.needsShare);
  if (onShare.length && !inv.nfs) {
    throw new ConfigError(
      `plan.strategies: ${onShare.join(', ')} ${onShare.length === 1 ? 'needs' : 'need'} a testbed with an NFS server (stack three-vm-nfs); testbed ${inv.prefix} has none`,
      'strategies',
    );
  }
  if (edges(inv).length < 2) throw new ConfigError(`testbed ${inv.prefix} has fewer than two edges`, 'inventory');
  if (plan.fault) checkFaultTestbed(plan.fault, inv, 'plan.fault');
  const need = onShare.length && onShare.length < plan.strategies.length ? 2 : 1;
  if (inv.containerAddresses.length < need) {
    throw new ConfigError(`testbed ${inv.prefix} has ${inv.containerAddresses.length} container addresses; this plan needs ${need}`, 'inventory');
  }
}

/**
 * The results directory, made if absent, with one runner in it: its lock
 * inside it (never beside it). A runner killed a moment ago leaves a lock
 * that goes stale within 20 s: wait that out. Returns the release.
 */
export async function openResultsDir(out: string, what: string): Promise<() => Promise<void>> {
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    throw new FollowmeError(`--out: cannot create ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  return lock(out, {
    lockfilePath: join(out, LOCK_NAME),
    realpath: false,
    stale: 20_000,
    update: 5_000,
    retries: { retries: 6, minTimeout: 5_000, maxTimeout: 5_000 },
  }).catch((e: unknown) => {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOCKED') throw new ConfigError(`--out: ${out} is in use by another running ${what}`, 'out');
    throw new FollowmeError(`--out: cannot lock ${join(out, LOCK_NAME)}: ${code ?? (e as Error).message}`, { cause: e });
  });
}

/** A runner killed mid-migration leaves that migration in the journal: settled first, so that the same command resumes. Returns where each recovered container runs now. */
export async function recoverCutShort(inv: Inventory, log: (line: string) => void): Promise<Map<string, string>> {
  const placed = new Map<string, string>();
  for (const e of unfinishedMigrations(journalDirFor(inv.prefix))) {
    log(`migration ${e.id} of ${e.container} was cut short at "${e.step}": recovering it first`);
    const [r] = await recover({ inventory: inv, id: e.id, log: (l) => log(`  ${l}`) });
    if (!r?.settled || !r.runningOn) {
      throw new FollowmeError(
        `migration ${e.id} could not be recovered (${r?.stateLost ?? r?.problem ?? 'not found'}); see \`followme recover --inventory FILE --id ${e.id}\``,
      );
    }
    placed.set(e.container, r.runningOn);
  }
  return placed;
}

export async function runExperiment(o: ExperimentOptions): Promise<{ manifest: Manifest; runs: RunRecord[]; ranNow: number }> {
  const { plan, inventory: inv } = o;
  checkPlanFitsTestbed(plan, inv);
  const existing = readManifest(o.out);
  if (existing) checkResumable(existing, plan, inv, 'out');
  const release = await openResultsDir(o.out, 'experiment');
  try {
    const manifest = existing ?? (await newManifest({ plan, planFile: o.planFile, inventory: inv, ...(o.stack ? { stack: o.stack } : {}) }));
    writeManifest(o.out, manifest);
    const runs = plannedRuns(plan);
    const before = readResults(o.out, { flag: 'out', keep: (r) => r, planned: new Set(runs.map((r) => r.key)) });
    for (const note of integrityNotes(before)) o.log(`${o.out}/runs.jsonl: ${note}`);
    if (before.tornTail) {
      o.log('the torn line is cut off; that run is done again');
      dropTornTail(o.out, before.wholeBytes);
    }
    const finished = new Set(before.runs.map((r) => r.key));
    const skipped = runs.filter((r) => finished.has(r.key)).length;
    if (skipped) o.log(`resuming: ${skipped} of ${runs.length} runs already in ${o.out}/runs.jsonl are skipped`);
    await recoverCutShort(inv, o.log);
    const records = [...before.runs];
    let ranNow = 0;
    const started = Date.now();
    const progress = (current?: PlannedRun, last?: RunRecord) => {
      const done = records.length;
      const left = runs.length - done;
      const etaMs = ranNow > 0 ? ((Date.now() - started) / ranNow) * left : undefined;
      o.onProgress?.({
        done,
        total: runs.length,
        skipped,
        ...(current ? { current } : {}),
        ...(etaMs !== undefined ? { etaMs } : {}),
        ...(last ? { last } : {}),
      });
    };
    progress();

    for (const profile of plan.profiles) {
      const profileRuns = runs.filter((r) => r.profile === profile.name && !finished.has(r.key));
      if (profileRuns.length === 0) continue;
      o.log(`profile ${profile.name}: shaping the edges' uplinks`);
      await applyProfile(inv, profile);
      try {
        if (!manifest.profiles[profile.name]?.measured) {
          const measured = await measurePath(inv);
          manifest.profiles[profile.name] = { profile, measured };
          writeManifest(o.out, manifest);
          o.log(
            `profile ${profile.name}: RTT ${measured.rttMs.avg.toFixed(2)} ms, throughput ${measured.throughputMbit.toFixed(0)} Mbit/s (${measured.between.join(' → ')})`,
          );
        }
        for (const w of plan.workloads) {
          const todo = profileRuns.filter((r) => r.workload === w.name);
          if (todo.length === 0) continue;
          const containers = uniqueContainers(todo.map((r) => containerFor(w.name, r.strategy, inv)));
          const where = new Map<string, string>();
          for (const c of containers) where.set(c.name, await ensureContainer(inv, c, w.params, o.log));
          for (const run of todo) {
            progress(run);
            const c = containerFor(w.name, run.strategy, inv);
            const record = await oneRun({ ...o, run, container: c, from: where.get(c.name)!, params: w.params });
            appendRun(o.out, record.run, record.timeline);
            records.push(record.run);
            // A fault, or a cleanup that found the destination without the container, can leave a migration for recover: settled
            // before the next run (a journal read when there is none).
            const recovered = await recoverCutShort(inv, o.log);
            ranNow++;
            if (record.run.outcome === 'migrated') where.set(c.name, record.run.to);
            // recover may bring a migrated container back to its source (its destination lost it in the cleanup).
            for (const [name, edge] of recovered) if (where.has(name)) where.set(name, edge);
            o.log(summaryLine(record.run));
            progress(undefined, record.run);
            if (record.run.outcome === 'failed') {
              throw new FollowmeError(
                `run ${run.key} failed and its rollback did not restore the container: the experiment stops (${record.run.error ?? ''}). ` +
                  '`followme recover --inventory FILE` puts the container back in one place; then the same command resumes',
              );
            }
          }
          await removeContainers(inv, containers);
        }
      } finally {
        await clearProfile(inv).catch((e: unknown) => o.log(`removing profile ${profile.name}: ${(e as Error).message}`));
      }
    }
    return { manifest, runs: records, ranNow };
  } finally {
    await release();
  }
}

function uniqueContainers(cs: ExperimentContainer[]): ExperimentContainer[] {
  return cs.filter((c, i) => cs.findIndex((x) => x.name === c.name) === i);
}

function summaryLine(r: RunRecord): string {
  const m = r.migration;
  const parts = [`run ${r.index} ${r.key}: ${r.outcome}`];
  if (m?.downtimeMs !== undefined) parts.push(`downtime ${m.downtimeMs.toFixed(0)} ms (service ${r.serviceDowntimeMs?.toFixed(0) ?? '?'} ms)`);
  if (m) parts.push(`total ${(m.totalMs / 1000).toFixed(1)} s`);
  if (m?.lastDumpPagesWritten !== undefined) parts.push(`${m.lastDumpPagesWritten} pages in the last dump`);
  if (r.client) parts.push(`${r.client.kind}: longest stall ${r.client.longestStallMs.toFixed(0)} ms, ${r.client.connections} connection(s)`);
  if (m?.fault)
    parts.push(
      `fault ${m.fault.kind} in "${m.fault.phase}" ${m.fault.injected ? 'injected' : 'never reached'}${m.fault.errors ? ` (${m.fault.errors.join('; ')})` : ''}`,
    );
  const k = r.controllerKilled;
  if (k)
    parts.push(
      `controller ${k.ended}; recover ${k.recovery.settled ? `left it on ${k.recovery.runningOn}` : 'could not settle it'} in ${(k.recovery.ms / 1000).toFixed(1)} s`,
    );
  if (r.state.problem) parts.push(`STATE: ${r.state.problem}`);
  return parts.join(', ');
}

/** One run: state before, client and probe on, the migration, answers again, state after. */
async function oneRun(
  o: ExperimentOptions & { run: PlannedRun; container: ExperimentContainer; from: string; params: Record<string, unknown> },
): Promise<{ run: RunRecord; timeline: { sentMs: number[]; latencyMs: number[] } }> {
  const { run, container: c, inventory: inv } = o;
  const workload = workloadNamed(run.workload);
  const to = edges(inv).find((e) => e.name !== o.from)!.name;
  const startedAt = new Date().toISOString();
  o.log(`run ${run.index} ${run.key}: ${c.name} ${o.from} → ${to}`);
  const before: StateReading = await eventually(() => workload.readState(c.ip));
  const clientStartedAt = performance.now();
  const client = workload.startClient ? await workload.startClient(c.ip, o.params, { maxMs: RUN_LIMIT_MS }) : undefined;
  // The client's clock starts this much before the probe's: its error is placed on the probe's clock, beside the marks.
  const clientLeadMs = performance.now() - clientStartedAt;
  const probe = startProbe({ ip: c.ip, ...workload.service, ...o.plan.probe, maxMs: RUN_LIMIT_MS });
  let migration: MigrationRecord | undefined;
  let killed: ControllerKilled | undefined;
  let killedOutcome: RunRecord['outcome'] | undefined;
  let error: string | undefined;
  try {
    // The service answers before the move, or the run is not worth making.
    if (!(await probe.answersAfter(10, 30_000))) throw new FollowmeError(`${c.name} did not answer its service probe before the move`);
    probe.mark('migrate');
    const moveOptions = { inventory: inv, strategy: run.strategy, container: c.name, from: o.from, to, predumps: o.plan.predumps };
    // Ψ starts when set-up is done: the freeze is placed on the probe's clock from there.
    const onEvent: EventListener = (e) => {
      if (e.type === 'setup-done') probe.mark('psi-start');
      return o.onEvent?.(e);
    };
    const fault = o.plan.fault;
    try {
      if (fault && !isInjectedFault(fault)) {
        const r = await migrateKillingController({ ...moveOptions, fault, onEvent, log: o.log, limitMs: RUN_LIMIT_MS });
        if (r.kind === 'ended') {
          migration = r.record;
          if (r.failure) error = r.failure;
        } else {
          killed = r.controllerKilled;
          killedOutcome = r.outcome;
          if (r.error) error = r.error;
        }
      } else {
        migration = await migrate({ ...moveOptions, ...(fault ? { fault: faultInjector(fault, inv, o.from, to, o.log) } : {}), onEvent });
      }
    } catch (e) {
      if (!(e instanceof MigrationFailedError)) throw e;
      migration = e.record;
      error = e.message;
    }
    probe.mark('migrated');
    const psiStart = probe.marks()['psi-start'];
    if (migration?.freezeAtMs !== undefined && psiStart !== undefined) probe.markAt('freeze', psiStart + migration.freezeAtMs);
    if (!(await probe.answersAfter(ANSWERS_AFTER, AFTER_WAIT_MS)))
      error ??= `${c.name} did not answer its service probe within ${AFTER_WAIT_MS / 1000} s after the move`;
  } catch (e) {
    error ??= (e as Error).message;
  }
  const clientReport: ClientReport | undefined = await client?.stop();
  if (clientReport?.errorAtMs !== undefined) probe.markAt('client-error', clientReport.errorAtMs - clientLeadMs);
  const { report, timeline } = await probe.stop();
  let after: StateReading | undefined;
  let problem: string | undefined;
  try {
    after = await eventually(() => workload.readState(c.ip));
    problem = stateProblem(before, after);
  } catch (e) {
    problem = `its state could not be read after the run: ${(e as Error).message}`;
  }
  if (clientReport?.error) problem ??= `its ${clientReport.kind}: ${clientReport.error}${whenOnProbeClock(report.marks, 'client-error')}`;
  const outcome = migration?.outcome ?? killedOutcome ?? 'failed';
  return {
    run: {
      runVersion: 1,
      key: run.key,
      index: run.index,
      experiment: o.plan.name,
      profile: run.profile,
      workload: run.workload,
      strategy: run.strategy,
      repetition: run.repetition,
      container: c.name,
      from: o.from,
      to,
      startedAt,
      endedAt: new Date().toISOString(),
      outcome,
      ...(migration ? { migration } : {}),
      ...(killed ? { controllerKilled: killed } : {}),
      ...(outcome === 'migrated' ? { serviceDowntimeMs: report.longestGapMs } : {}),
      probe: report,
      ...(clientReport ? { client: clientReport } : {}),
      state: { before: before.text, ...(after ? { after: after.text } : {}), ...(problem ? { problem } : {}) },
      ...(error ? { error } : {}),
      timeline: timelinePath(run.key),
    },
    timeline,
  };
}
