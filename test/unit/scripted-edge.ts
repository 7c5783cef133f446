// An edge without a node: the engine's verbs all run through Edge.exec, so a
// scripted exec that keeps a little state (which containers run here) is
// enough to drive a whole migration through the real engine and strategies.
// Each command is answered by its kind; `answer` overrides any of them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Inventory, InventoryNode } from '../../common/inventory.js';
import { generateKeyPair } from '../../provision/testbed/keys.js';
import { clientKey, loopbackInventory } from '../harness/recording-ssh-server.js';
import { scratchDir } from '../scratch.js';
import type { ExecResult, SshConnection } from '../../common/ssh/transport.js';
import { Edge } from '../../migration/edge.js';
import type { CommandKind, EdgeCommand } from '../../migration/edge-command.js';
import { lxcConfig } from '../../migration/lxc/commands.js';

const COMMAND_MS = 4;

type Reply = Partial<ExecResult> | undefined;
export type ScriptedAnswer = (kind: CommandKind, argv: readonly string[], edge: ScriptedEdge) => Reply | Promise<Reply>;

const fixture = (name: string) => readFileSync(new URL(`../fixtures/criu/${name}`, import.meta.url));
export const STATS_DUMP_B64 = fixture('stats-dump').toString('base64');
const STATS_RESTORE_B64 = fixture('stats-restore').toString('base64');

export const CONTAINER_CONFIG = (name: string) =>
  lxcConfig({ name, rootfs: `/var/lib/lxc/${name}/rootfs`, ip: '10.77.10.250', prefixLength: 24, mac: '52:54:00:aa:bb:cc', bridge: 'br0' });

export class ScriptedEdge extends Edge {
  readonly kinds: CommandKind[] = [];
  /** Every command as "kind: argv", in order. */
  readonly commands: string[] = [];

  constructor(
    node: InventoryNode,
    readonly running: Set<string>,
    private readonly answer: ScriptedAnswer = () => undefined,
    /** Containers LXC knows here that do not run (a dump or lxc-stop stopped them): lxc-destroy removes them, and refuses one it does not know. */
    readonly stopped = new Set<string>(),
  ) {
    // Nothing reaches SSH unless a command fails (CRIU's log is then read): that read fails too.
    // It can be severed as a real one can (fault injection): every later command fails as lost.
    const noSsh = {
      lostReason: undefined as string | undefined,
      run: async () => Promise.reject(new Error('no SSH in a scripted edge')),
      sever(reason: string) {
        this.lostReason = reason;
      },
      close: () => undefined,
    };
    super(node.name, node.ip, noSsh as unknown as SshConnection);
  }

  override async exec(cmd: EdgeCommand, opts: { allowFailure?: boolean; onStdout?: (chunk: string) => void } = {}): Promise<ExecResult> {
    const { kind, argv } = cmd;
    if (this.ssh.lostReason) throw new Error(`${this.name}: the SSH connection was lost (${this.ssh.lostReason})`);
    this.kinds.push(kind);
    this.commands.push(`${kind}: ${argv.join(' ')}`);
    const sentAt = performance.now();
    // A command takes a few ms, as over SSH on loopback: Ψ is then far above the engine's own bookkeeping.
    await new Promise((resolve) => setTimeout(resolve, COMMAND_MS));
    // rsync --info=progress2 reports while it copies: the engine turns that into progress events mid-command.
    if (opts.onStdout) {
      for (const percent of [25, 50, 75]) {
        opts.onStdout(`     1,000,000  ${percent}%   10.00MB/s    0:00:01\r`);
        await new Promise((resolve) => setTimeout(resolve, COMMAND_MS));
      }
    }
    const reply = (await this.answer(kind, argv, this)) ?? this.usual(kind, argv);
    const wallMs = performance.now() - sentAt;
    const r: ExecResult = { exitCode: 0, stdout: '', stderr: '', durationMs: wallMs, remoteMs: wallMs - 0.5, ...reply };
    this.sink?.({ node: this.name, kind, label: cmd.label ?? kind, remoteMs: r.remoteMs!, wallMs: r.durationMs, exitCode: r.exitCode }, sentAt);
    if (r.exitCode !== 0 && !opts.allowFailure) throw new Error(`${this.name}: ${kind} exited with ${r.exitCode}`);
    return r;
  }

  /** How a healthy node answers. */
  usual(kind: CommandKind, argv: readonly string[]): Partial<ExecResult> {
    const name = argv[argv.indexOf('-n') + 1] ?? '';
    switch (kind) {
      case 'lxc-state':
        return this.running.has(name) ? { stdout: 'RUNNING\n' } : this.stopped.has(name) ? { stdout: 'STOPPED\n' } : { exitCode: 1 };
      case 'path-exists':
        return { exitCode: 1 };
      case 'read-config':
        return { stdout: Buffer.from(CONTAINER_CONFIG([...this.running][0] ?? 'c1')).toString('base64') };
      case 'fs-type':
        return { stdout: 'tmpfs\n' };
      case 'versions':
        return { stdout: '6.12.0-test\nVersion: 4.1\n6.0.4\n' };
      case 'probe-container':
        return { stdout: '4242\n/lxc.payload.c1\ncpu memory pids\nno-inotify\n4026532236\n' };
      case 'criu-dump':
        // CRIU stops the container's tasks once they are dumped; a scripted edge holds one container.
        for (const c of this.running) this.stopped.add(c);
        this.running.clear();
        return {};
      case 'lxc-restore':
        // A restore joining a prepared network names the container after its script's four network arguments.
        if (argv.includes('restore-prepared')) {
          const restored = argv[argv.indexOf('restore-prepared') + 5] ?? '';
          this.stopped.delete(restored);
          this.running.add(restored);
          return { stdout: 'RUNNING\n' };
        }
        this.stopped.delete(name);
        this.running.add(name);
        return {};
      case 'lxc-destroy':
        if (!this.running.has(name) && !this.stopped.has(name)) return { exitCode: 1, stderr: `lxc-destroy: ${name}: Container is not defined\n` };
        this.running.delete(name);
        this.stopped.delete(name);
        return {};
      case 'lxc-kill':
        if (this.running.delete(name)) this.stopped.add(name);
        return {};
      case 'remove-container-dir':
      case 'remove-config-dir':
        this.stopped.delete(argv.at(-1)!.split('/').at(-1)!);
        return {};
      case 'read-stats-dump': {
        const dirs = argv.slice(4);
        return { stdout: `${dirs.map(() => STATS_DUMP_B64).join('\n')}\n` };
      }
      case 'read-stats-restore':
        return { stdout: STATS_RESTORE_B64 };
      default:
        return {};
    }
  }
}

export interface ScriptedTestbed {
  inventory: Inventory;
  edges: Map<string, ScriptedEdge>;
  connect: (n: InventoryNode) => Promise<ScriptedEdge>;
  journalDir: string;
  /** Which containers run on each edge. */
  running: Record<string, Set<string>>;
  /** Which containers LXC knows on each edge without their running. */
  stopped: Record<string, Set<string>>;
}

/** Two scripted edges (c1 running on edge-a) and a journal in a scratch directory. */
export function scriptedTestbed(answer?: ScriptedAnswer): ScriptedTestbed {
  const dir = scratchDir('fm-scripted-');
  const inventory = loopbackInventory({ port: 22, hostPublicKey: generateKeyPair('node').public } as never, clientKey(dir).privateKeyPath);
  const edges = new Map<string, ScriptedEdge>();
  const running = { 'edge-a': new Set(['c1']), 'edge-b': new Set<string>() } as Record<string, Set<string>>;
  const stopped = { 'edge-a': new Set<string>(), 'edge-b': new Set<string>() } as Record<string, Set<string>>;
  // One edge per node, as state lives on the node; a new one (same node state) once its connection was severed.
  const connect = async (n: InventoryNode) => {
    if (!edges.has(n.name) || edges.get(n.name)!.ssh.lostReason) edges.set(n.name, new ScriptedEdge(n, running[n.name]!, answer, stopped[n.name]!));
    return edges.get(n.name)!;
  };
  return { inventory, edges, connect, journalDir: join(dir, 'journal'), running, stopped };
}
