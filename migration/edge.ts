// An edge as the migration engine sees it: one SSH connection and domain
// verbs (preDump, dump, restore, push, page server). Every remote command is
// timed on the node and reported to whoever listens (the engine's current
// phase), so the record can tell the commands' own time from the engine's.
import { CommandError, FollowmeError } from '../common/errors.js';
import { NotYet, poll, PollTimeoutError } from '../common/poll.js';
import { assertUnder } from '../common/input/remote-path.js';
import type { InventoryNode } from '../common/inventory.js';
import { sshTarget } from '../common/ssh/target.js';
import { SshConnection, type ExecResult } from '../common/ssh/transport.js';
import { explainUnseizable, failedDumpScript, findUnseizableTask, parseFailedDump } from './criu/log.js';
import { missingFeaturesScript, type CriuFeature } from './criu/features.js';
import {
  failLazyDump,
  lazyDumpLauncher,
  lazyFilesOf,
  lazyPagesDaemon,
  lazyPagesLog,
  lazyPagesProgressScript,
  parseLazyPagesProgress,
  waitLazyDump,
  type LazyPagesProgress,
} from './criu/lazy.js';
import { criu, parseContainerProcess, parseCriuVersion, probeContainerProcess, type ContainerProcess, type DumpRequest } from './criu/commands.js';
import { parseDumpStats, parseRestoreStats, type DumpStats, type RestoreStats } from './criu/stats.js';
import { lxc, parseState, type ContainerState } from './lxc/commands.js';
import { preparedNetwork, type PreparedNetwork } from './lxc/network.js';
import { concurrently, parseAllBytesSent, parseBytesSent, parseProgress, receiverConfig, rsync, type RsyncReceiver } from './rsync/commands.js';
import type { CommandTiming } from './record/schema.js';
import { command, type EdgeCommand } from './edge-command.js';

/** Where rsync daemons keep their config and pid file. */
export const RECEIVER_RUN_BASE = '/run';

/** rsync: "some files vanished before they could be transferred". */
const RSYNC_VANISHED = 24;

/** Gets each command's timing and when it was sent (performance.now() on the controller). */
export type TimingSink = (t: CommandTiming, sentAt: number) => void;

export interface EdgeVersions {
  kernel: string;
  criu: string;
  lxc: string;
}

/** Bounds of the remote steps; a step that takes longer fails its phase. */
export const STEP_TIMEOUT_MS = {
  quick: 30_000,
  dump: 180_000,
  restore: 180_000,
  copy: 900_000,
} as const;

/** An inventory edge over SSH, as the engine and recover reach it. */
export async function connectEdge(n: InventoryNode): Promise<Edge> {
  return new Edge(n.name, n.ip, await SshConnection.connect(sshTarget(undefined, n)));
}

export class Edge {
  /** Receives the timing of every command; the engine points it at the running phase. */
  sink: TimingSink | undefined;

  constructor(
    readonly name: string,
    readonly address: string,
    readonly ssh: SshConnection,
  ) {}

  /** Runs a command on the node, times it there, throws CommandError unless it exits 0. */
  async exec(cmd: EdgeCommand, opts: { input?: string; allowFailure?: boolean; onStdout?: (chunk: string) => void } = {}): Promise<ExecResult> {
    const { argv } = cmd;
    const timeoutMs = cmd.timeoutMs ?? STEP_TIMEOUT_MS.quick;
    const sentAt = performance.now();
    // Commands with stdin need a channel of their own; the rest share the persistent shell.
    const r =
      opts.input !== undefined
        ? await this.ssh.run(argv, { timeoutMs, remoteTiming: true, input: opts.input })
        : await this.ssh.runInShell(argv, { timeoutMs, ...(opts.onStdout ? { onStdout: opts.onStdout } : {}) });
    this.sink?.(
      {
        node: this.name,
        kind: cmd.kind,
        label: cmd.label ?? cmd.kind,
        remoteMs: r.remoteMs ?? r.durationMs,
        wallMs: r.durationMs,
        ...(r.remoteStartMs !== undefined ? { remoteStartMs: r.remoteStartMs } : {}),
        exitCode: r.exitCode,
      },
      sentAt,
    );
    if (r.exitCode !== 0 && !opts.allowFailure) {
      throw new CommandError({ host: this.name, argv, exitCode: r.exitCode, stderr: r.stderr || r.stdout, durationMs: r.durationMs, timedOut: false });
    }
    return r;
  }

  async state(name: string): Promise<ContainerState | undefined> {
    const r = await this.exec(command('lxc-state', lxc.state(name)), { allowFailure: true });
    return r.exitCode === 0 ? parseState(r.stdout) : undefined;
  }

  async exists(path: string): Promise<boolean> {
    return (await this.exec(command('path-exists', ['test', '-e', path]), { allowFailure: true })).exitCode === 0;
  }

  async fsType(path: string): Promise<string> {
    return (await this.exec(command('fs-type', ['stat', '-f', '-c', '%T', path]))).stdout.trim();
  }

  /** Bytes free to an unprivileged writer on the file system holding `path` (df's avail). */
  async freeBytes(path: string): Promise<number> {
    const last = (await this.exec(command('free-space', ['df', '--output=avail', '-B1', path]))).stdout.trim().split('\n').pop()?.trim() ?? '';
    if (!/^\d{1,18}$/.test(last)) throw new FollowmeError(`${this.name}: df printed no free space for ${path}`);
    return Number(last);
  }

  async versions(): Promise<EdgeVersions> {
    const r = await this.exec(command('versions', ['sh', '-c', 'uname -r; criu --version | head -1; lxc-start --version']));
    const [kernel = '', criuLine = '', lxcVersion = ''] = r.stdout.trim().split('\n');
    return { kernel, criu: parseCriuVersion(criuLine), lxc: lxcVersion.trim() };
  }

  /** Which of `features` CRIU lacks on this node (["criu: not installed"] without CRIU); `fresh` asks CRIU, not the boot's cache. */
  async missingCriuFeatures(features: readonly CriuFeature[], opts: { fresh?: boolean } = {}): Promise<string[]> {
    if (!features.length) return [];
    const r = await this.exec(command('criu-features', missingFeaturesScript(features, opts), { timeoutMs: STEP_TIMEOUT_MS.dump }));
    return r.stdout
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
  }

  async containerProcess(name: string): Promise<ContainerProcess> {
    const r = await this.exec(command('probe-container', probeContainerProcess(name)));
    try {
      return parseContainerProcess(r.stdout, `${this.name}: container ${name}`);
    } catch (e) {
      throw new FollowmeError((e as Error).message);
    }
  }

  async mkdirs(...dirs: string[]): Promise<void> {
    await this.exec(command('mkdir', ['mkdir', '-p', ...dirs]));
  }

  /** The source's image directories and the final dump's post-dump hook (post-dump-hook.ts), in one round trip. */
  async makeDumpDirs(dirs: string[], hook: { path: string; text: string }): Promise<void> {
    await this.exec(command('make-dump-dirs', ['sh', '-c', 'h=$1; shift; mkdir -p "$@" && cat > "$h" && chmod 755 "$h"', 'dirs', hook.path, ...dirs]), {
      input: hook.text,
    });
  }

  async readFile(path: string, kind: 'read-file' | 'read-config' | 'read-stats-restore' = 'read-file'): Promise<Buffer> {
    const r = await this.exec(command(kind, ['base64', '-w0', path]));
    return Buffer.from(r.stdout.trim(), 'base64');
  }

  async writeFile(path: string, content: string): Promise<void> {
    await this.exec(command('write-file', ['sh', '-c', 'cat > "$1"', 'write', path]), { input: content });
  }

  async restoreStats(imagesDir: string): Promise<RestoreStats> {
    return parseRestoreStats(await this.readFile(`${imagesDir}/stats-restore`, 'read-stats-restore'), `${this.name}:${imagesDir}/stats-restore`);
  }

  async preDump(req: DumpRequest): Promise<void> {
    await this.criuStep('pre-dump', criu.preDump(req), req.imagesDir);
  }

  async dump(req: DumpRequest): Promise<void> {
    await this.criuStep('dump', criu.dump(req), req.imagesDir);
  }

  /**
   * A lazy final dump (criu/lazy.ts), started in the background: returns
   * once the container is dumped, frozen and its pages are served from
   * `req.lazyPages`, which the dump keeps doing after this returns.
   */
  async startLazyDump(req: DumpRequest & { lazyPages: NonNullable<DumpRequest['lazyPages']> }): Promise<void> {
    const files = lazyFilesOf(req.imagesDir);
    await this.criuStep('dump', lazyDumpLauncher(criu.dump(req), files, req.lazyPages.port, STEP_TIMEOUT_MS.dump - 5_000), req.imagesDir);
  }

  /**
   * Waits for a lazy dump to end: its last page served (ok) or its server
   * failed. `ranMs` is how long the dump ran on the node, from its start.
   */
  async waitLazyDump(imagesDir: string, timeoutMs: number): Promise<{ ok: boolean; ranMs: number | undefined }> {
    const r = await this.exec(command('wait-lazy-dump', waitLazyDump(lazyFilesOf(imagesDir)), { timeoutMs }), { allowFailure: true });
    const ran = Number(r.stdout.trim().split('\n')[0]);
    return { ok: r.exitCode === 0, ranMs: Number.isFinite(ran) && r.stdout.trim() ? ran : undefined };
  }

  /** Ends a lazy dump no daemon has taken pages from, so CRIU resumes the source's tasks; returns what happened ("failed", "killed", or "" when none ran). */
  async failLazyDump(imagesDir: string, port: number): Promise<string> {
    const r = await this.exec(command('fail-lazy-dump', failLazyDump(lazyFilesOf(imagesDir), this.address, port)), { allowFailure: true });
    return r.stdout.trim();
  }

  /** Starts the destination's lazy-pages daemon for the images in `imagesDir`; returns once it waits for the restore. */
  async startLazyPages(o: { imagesDir: string; source: string; port: number }): Promise<void> {
    await this.exec(command('criu-lazy-pages', lazyPagesDaemon(o)));
  }

  /**
   * The lazy-pages daemon as it is now: whether it still runs, what its log
   * counts, and how many errors it logged (counted on the node: the log is long).
   */
  async lazyPagesProgress(imagesDir: string): Promise<LazyPagesProgress> {
    const r = await this.exec(command('read-lazy-pages-log', lazyPagesProgressScript(imagesDir)));
    const progress = parseLazyPagesProgress(r.stdout);
    if (!progress) throw new FollowmeError(`${this.name}: cannot read ${lazyPagesLog(imagesDir)}: ${JSON.stringify(r.stdout.slice(0, 80))}`);
    return progress;
  }

  /** Runs a CRIU action; on failure the error carries CRIU's own last errors (it logs to a file, not stderr). */
  private async criuStep(action: 'pre-dump' | 'dump', argv: string[], imagesDir: string): Promise<void> {
    try {
      await this.exec(command(action === 'dump' ? 'criu-dump' : 'criu-pre-dump', argv, { timeoutMs: STEP_TIMEOUT_MS.dump }));
    } catch (e) {
      const log = `${imagesDir}/${action}.log`;
      const read = await this.ssh.run(failedDumpScript(log, imagesDir)).catch(() => undefined);
      const what =
        e instanceof CommandError ? (e.timedOut ? `timed out after ${Math.round(e.durationMs / 1000)} s` : `exited with ${e.exitCode}`) : (e as Error).message;
      const { errorLines: lines, unseizable, full } = parseFailedDump(read?.stdout ?? '', imagesDir);
      const why = [full, await this.whyUnseizable(unseizable)].filter(Boolean).join('\n');
      throw new FollowmeError(`${this.name}: criu ${action} ${what}: ${lines || '(no errors in its log)'} (log: ${log})${why ? `\n${why}` : ''}`, { cause: e });
    }
  }

  /** Names the task CRIU could not stop, and the likely reason, if its errors name one. */
  private async whyUnseizable(errorLines: string): Promise<string | undefined> {
    const task = findUnseizableTask(errorLines);
    if (!task) return undefined;
    // Off the timed path: this runs only after a failed dump.
    const comm = await this.ssh.run(['cat', `/proc/${task.pid}/comm`]).catch(() => undefined);
    return explainUnseizable(task, comm?.exitCode === 0 ? comm.stdout.trim() : undefined);
  }

  /** The stats-dump of several image directories in one round trip; undefined where there is none. */
  async dumpStatsOf(dirs: string[]): Promise<(DumpStats | undefined)[]> {
    if (!dirs.length) return [];
    const r = await this.exec(
      command('read-stats-dump', [
        'sh',
        '-c',
        'for d; do if [ -f "$d/stats-dump" ]; then base64 -w0 "$d/stats-dump"; else printf -- -; fi; echo; done',
        'stats',
        ...dirs,
      ]),
    );
    const lines = r.stdout.split('\n');
    return dirs.map((d, i) => {
      const line = (lines[i] ?? '-').trim();
      return line === '-' || !line ? undefined : parseDumpStats(Buffer.from(line, 'base64'), `${this.name}:${d}/stats-dump`);
    });
  }

  /**
   * Restores through lxc-checkpoint, so the container gets an LXC monitor.
   * `setsid -w` gives the monitor its own session with stdio on a log file
   * (lxc-checkpoint -r would otherwise hold the SSH channel open for the
   * container's whole life) and still returns lxc-checkpoint's own status.
   * With `network`, the images left the network namespace out: the restore
   * joins the prepared one (made first if it is not there).
   */
  async restore(name: string, imagesDir: string, network?: PreparedNetwork, opts: { lazy?: boolean } = {}): Promise<void> {
    const log = `${imagesDir}/lxc-restore.out`;
    if (opts.lazy && !network) throw new FollowmeError('a lazy restore needs a prepared network: its CRIU config file asks for the lazy pages');
    const argv = network
      ? ['setsid', '-w', ...preparedNetwork.restore(name, imagesDir, log, network, opts)]
      : ['setsid', '-w', 'sh', '-c', 'exec "$@" </dev/null >>"$0" 2>&1', log, ...lxc.restore(name, imagesDir)];
    const restored = await this.exec(command('lxc-restore', argv, { timeoutMs: STEP_TIMEOUT_MS.restore })).catch(async (e: unknown) => {
      const out = await this.ssh.run(['tail', '-n', '5', log]).catch(() => undefined);
      const criuLog = await this.ssh.run(['sh', '-c', 'grep -h "Error" "$0"/restore.log | tail -n 3', imagesDir]).catch(() => undefined);
      throw new FollowmeError(
        `${this.name}: restore of ${name} from ${imagesDir} failed: ${[out?.stdout, criuLog?.stdout].filter(Boolean).join('').trim() || (e as Error).message}`,
        { cause: e },
      );
    });
    // The prepared network's restore prints the state itself.
    const state = network ? parseState(restored.stdout) : await this.state(name);
    if (state !== 'RUNNING') throw new FollowmeError(`${this.name}: lxc-checkpoint restored ${name} but lxc-info says ${state ?? 'absent'}`);
  }

  /** The container's network namespace made on this edge before the freeze (lxc/network.ts). */
  async prepareNetwork(network: PreparedNetwork): Promise<void> {
    await this.exec(command('prepare-network', preparedNetwork.prepare(network), { timeoutMs: STEP_TIMEOUT_MS.restore }));
  }

  /** Drops a prepared namespace's name: after a restore joined it, or to remove one no container joined. */
  async forgetNetwork(container: string, opts: { allowFailure?: boolean } = {}): Promise<void> {
    await this.exec(command('forget-network', preparedNetwork.forget(container)), opts);
  }

  /** Starts a page server for one dump into `imagesDir`; returns once it listens. */
  async startPageServer(o: { imagesDir: string; port: number; prevImagesDir?: string; pidFile: string }): Promise<void> {
    await this.exec(command('criu-page-server', criu.pageServer({ ...o, address: this.address })));
  }

  /** Waits until the process in `pidFile` is gone (a page server finishing its writes). */
  async waitExited(pidFile: string, timeoutMs = 30_000): Promise<void> {
    try {
      await poll(
        async () => {
          const r = await this.exec(
            command('wait-exit', ['sh', '-c', 'p=$(cat "$0" 2>/dev/null) || exit 0; kill -0 "$p" 2>/dev/null && exit 1; exit 0', pidFile]),
            {
              allowFailure: true,
            },
          );
          if (r.exitCode !== 0) throw new NotYet('still running');
        },
        { timeoutMs, intervalMs: 50 },
      );
    } catch (e) {
      if (!(e instanceof PollTimeoutError)) throw e;
      throw new FollowmeError(`${this.name}: process of ${pidFile} still running after ${timeoutMs / 1000} s`);
    }
  }

  /** Kills the process of a pid file, if any (cleanup; never throws on absence). */
  async killPidFile(pidFile: string): Promise<void> {
    await this.exec(command('kill-pid-file', ['sh', '-c', 'p=$(cat "$0" 2>/dev/null) && kill -9 "$p" 2>/dev/null; rm -f "$0"; exit 0', pidFile]), {
      allowFailure: true,
    });
  }

  /** Kills the page servers and lazy-pages daemons of a migration's iterations (their pid files under workDir), if any. */
  async killPageServers(workDir: string): Promise<void> {
    await this.exec(
      command('kill-page-servers', [
        'sh',
        '-c',
        'for f in "$0"/*/page-server.pid "$0"/*/lazy-pages.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done; exit 0',
        workDir,
      ]),
      { allowFailure: true },
    );
  }

  /** Starts an rsync daemon on this edge that only `allowFrom` may push to. */
  async startReceiver(r: Omit<RsyncReceiver, 'address'>, allowFrom: string): Promise<RsyncReceiver> {
    const receiver: RsyncReceiver = { ...r, address: this.address };
    await this.mkdirs(r.runDir);
    await this.writeFile(`${r.runDir}/rsyncd.conf`, receiverConfig(receiver, allowFrom));
    await this.exec(command('rsync-daemon', rsync.daemon(receiver)));
    // The daemon forks before it binds: wait (bounded) until it listens.
    await this.exec(
      command('wait-listen', ['sh', '-c', 'for i in $(seq 1 100); do ss -Hltn "sport = :$0" | grep -q . && exit 0; sleep 0.05; done; exit 1', String(r.port)]),
    );
    return receiver;
  }

  async stopReceiver(r: Pick<RsyncReceiver, 'runDir'>): Promise<void> {
    await this.killPidFile(`${r.runDir}/rsyncd.pid`);
    await this.removeUnder('remove-receiver-dir', RECEIVER_RUN_BASE, r.runDir, { allowFailure: true });
  }

  /** `rm -rf path`, only for a path strictly below `base` (the last check before anything is deleted). */
  async removeUnder(
    kind: 'remove-images' | 'remove-container-dir' | 'remove-config-dir' | 'remove-receiver-dir',
    base: string,
    path: string,
    opts: { allowFailure?: boolean; timeoutMs?: number } = {},
  ): Promise<ExecResult> {
    const argv = ['rm', '-rf', '--one-file-system', assertUnder(base, path)];
    return this.exec(command(kind, argv, opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}), opts.allowFailure ? { allowFailure: true } : {});
  }

  /**
   * Pushes a directory's contents to the receiver; returns bytes sent. With
   * `live` (the source is in use) files that vanish during the copy are fine
   * (rsync exit 24): the final sync after the freeze settles them.
   */
  async push(
    kind: 'rsync-rootfs' | 'rsync-rootfs-final' | 'rsync-images' | 'rsync-images-back',
    label: string,
    src: string,
    to: RsyncReceiver,
    dest: { module: string; subpath?: string },
    opts: { mirror?: boolean; live?: boolean; onProgress?: (p: { percent: number; rate: string }) => void } = {},
  ): Promise<number> {
    const argv = rsync.push(src, to, dest.module, dest.subpath ?? '', {
      ...(opts.mirror ? { mirror: true } : {}),
      ...(opts.onProgress ? { progress: true } : {}),
    });
    const onProgress = opts.onProgress;
    const r = await this.exec(command(kind, argv, { timeoutMs: STEP_TIMEOUT_MS.copy, label }), {
      allowFailure: true,
      ...(onProgress
        ? {
            onStdout: (chunk: string) => {
              const p = parseProgress(chunk);
              if (p) onProgress(p);
            },
          }
        : {}),
    });
    if (r.exitCode !== 0 && !(opts.live && r.exitCode === RSYNC_VANISHED)) {
      throw new CommandError({ host: this.name, argv, exitCode: r.exitCode, stderr: r.stderr || r.stdout, durationMs: r.durationMs, timedOut: false });
    }
    return parseBytesSent(r.stdout) ?? 0;
  }

  /**
   * The final copy at once: the final dump's images (`imagesDir` into the
   * work module at `name`) and what changed in the rootfs since `marker`
   * (rsync.pushChanged), both running together. Returns the bytes sent.
   */
  async pushFinal(o: { imagesDir: string; name: string; lxcDir: string; marker: string; list: string }, to: RsyncReceiver): Promise<number> {
    const argv = concurrently(rsync.push(o.imagesDir, to, 'work', o.name), rsync.pushChanged(o.lxcDir, o.marker, o.list, to, 'container'));
    const label = `rsync images ${o.name} and the rootfs changes since the first copy, at once`;
    const r = await this.exec(command('rsync-final', argv, { timeoutMs: STEP_TIMEOUT_MS.copy, label }));
    return parseAllBytesSent(r.stdout);
  }

  close(): void {
    this.ssh.close();
  }
}
