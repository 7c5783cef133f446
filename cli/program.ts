// followme's commands: one registry, each command's implementation loaded
// only when it runs. Options are typed from their declarations
// (@commander-js/extra-typings). runCli maps errors to exit codes: usage
// errors 2 (with the command's usage), FollowmeError by type, anything
// else 70 with its stack (a bug).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, type CommandUnknownOpts } from '@commander-js/extra-typings';
import { CommandError, ConfigError, ConflictError, FollowmeError, ReadinessTimeoutError } from '../common/errors.js';
import { cacheDir, projectRoot, stateDir } from '../common/paths.js';
import { strategyNames } from '../migration/strategies/index.js';
import { type CliIo, processIo, printError, useIo } from './output.js';

export const EXIT = { ok: 0, failed: 1, badInput: 2, conflict: 3, readiness: 4, command: 5, migration: 6, bug: 70 } as const;

export function exitCodeFor(e: unknown): number {
  if (e instanceof ConfigError) return EXIT.badInput;
  if (e instanceof ConflictError) return EXIT.conflict;
  if (e instanceof ReadinessTimeoutError) return EXIT.readiness;
  if (e instanceof CommandError) return EXIT.command;
  // A migration that failed and was rolled back (or not): its record says which.
  if (e instanceof FollowmeError && e.name === 'MigrationFailedError') return EXIT.migration;
  if (e instanceof FollowmeError) return EXIT.failed;
  return EXIT.bug;
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

const STACK = ['--stack <name>', 'testbed stack (stacks/Pulumi.<name>.yaml): two-vm, three-vm-nfs or corridor', 'two-vm'] as const;
const CONFIG = ['--config <file>', 'a stack config file to use instead of --stack'] as const;
const PREFIX = ['--prefix <prefix>', 'override the stack prefix (names of all libvirt objects)'] as const;
const INVENTORY = ['--inventory <file>', 'inventory JSON of the testbed'] as const;
const OUT = ['--out <file>', 'JSON-lines file the records are appended to', 'followme-results/migrations.jsonl'] as const;

function imageBuildCommand() {
  return new Command('build')
    .description('build (or reuse from the cache) the guest image of a stack')
    .option(...STACK)
    .option(...CONFIG);
}
function testbedUpCommand() {
  return new Command('up')
    .description('build the image if needed, create the VMs in parallel, wait until they are ready, write the inventory')
    .option(...STACK)
    .option(...CONFIG)
    .option(...PREFIX)
    .option('--inventory <file>', 'where to write the inventory JSON (default: the state dir)')
    .option('--no-wait', 'create everything but do not wait for readiness');
}
function testbedCommand(name: 'status' | 'down' | 'cycle', description: string) {
  return new Command(name)
    .description(description)
    .option(...STACK)
    .option(...CONFIG)
    .option(...PREFIX);
}
function demoCommand() {
  return new Command('demo')
    .description('the main job: image, testbed up, blank container migrated by every strategy, results table, testbed down')
    .option('--stack <name>', 'testbed stack (three-vm-nfs runs all three strategies; two-vm skips shared)', 'three-vm-nfs')
    .option(...CONFIG)
    .option(...PREFIX)
    .option('--predumps <n>', 'pre-dump iterations before each final dump', '2')
    .option(...OUT)
    .option('--keep', 'leave the testbed and containers up at the end');
}
function containerDeployCommand() {
  return new Command('deploy')
    .description("copy a workload's container from its guest template, bridge it onto the testbed network at a fixed address, start it")
    .requiredOption(...INVENTORY)
    .requiredOption('--node <edge>', 'edge to deploy on')
    .option('--workload <name>', 'blank, video or memory (with its default parameters)', 'blank')
    .option('--name <name>', 'container name', 'blank')
    .option('--address <index>', "index into the inventory's containerAddresses", '0')
    .option('--shared', 'put the rootfs on the NFS share (for --strategy shared)');
}
function containerRemoveCommand() {
  return new Command('remove')
    .description('stop and remove a container from an edge (absent is fine)')
    .requiredOption(...INVENTORY)
    .requiredOption('--node <edge>', 'edge to remove it from')
    .option('--name <name>', 'container name', 'blank')
    .option('--shared', 'also remove its rootfs from the NFS share');
}
function migrateCommand() {
  return new Command('migrate')
    .description('live-migrate a running container between two edges; prints each phase, the summary, and appends the JSON record')
    .requiredOption(...INVENTORY)
    .requiredOption('--strategy <name>', `one of ${strategyNames().join(', ')}`)
    .requiredOption('--from <edge>', 'source edge')
    .requiredOption('--to <edge>', 'destination edge')
    .option('--container <name>', 'container to migrate', 'blank')
    .option('--predumps <n>', 'pre-dump iterations before the final dump (a strategy that decides its rounds, such as adaptive, ignores it)', '2')
    .option(...OUT);
}

function recoverCommand() {
  return new Command('recover')
    .description(
      'after a controller crash (or a failed rollback): bring each unfinished migration to one running copy of its container and remove what it left on the edges; safe to run again',
    )
    .requiredOption(...INVENTORY)
    .option('--id <migration>', 'only this migration (its id, as migrate and the journal print it)');
}

function experimentCommand() {
  return new Command('experiment')
    .description(
      "run a plan's migrations (strategies × workloads × network profiles × repetitions), appending each run to DIR/runs.jsonl; the same command resumes",
    )
    .requiredOption('--plan <file>', 'the plan (YAML; see plans/)')
    .option('--inventory <file>', 'inventory JSON of a running testbed')
    .option('--stack <name>', 'bring this stack up first and down at the end (three-vm-nfs for plans with shared)')
    .option(...CONFIG)
    .option(...PREFIX)
    .option('--out <dir>', 'results directory (default: followme-results/<plan name>)')
    .option('--keep', 'with --stack: leave the testbed up at the end');
}
function followCommand() {
  return new Command('follow')
    .description(
      "follow a user along a road: each trace replayed with each handover policy (and its strategies) on a road testbed, the user's latency emulated; records to DIR/trip.jsonl as they end; the same command resumes",
    )
    .option('--plan <file>', 'a trip plan (YAML; see plans/): traces × policies × strategies × repetitions')
    .option('--trace <file>', 'one trace (SUMO FCD XML, the ONE simulator format, or CSV t,x,y), instead of a plan')
    .option('--vehicle <id>', 'with --trace: the vehicle to follow, when the trace has several')
    .option('--policy <names>', 'with --trace: handover policies, comma-separated', 'stay,reactive,predictive')
    .option('--strategy <names>', 'with --trace: strategies, comma-separated; each policy takes those on its storage', 'sharedlean,lean')
    .option('--workload <name>', 'with --trace: the service that follows the user', 'video')
    .option('--repetitions <n>', 'with --trace: trips per policy and strategy', '1')
    .option('--speedup <x>', 'with --trace: trip seconds per wall second (migrations are not sped up)', '1')
    .option('--budget <ms>', "with --trace: the user's latency budget, ms", '10')
    .option('--latency <profile>', "with --trace: the stack's latency profile to emulate (default its first)")
    .option('--inventory <file>', 'inventory JSON of a running road testbed (its stack gives the road)')
    .option('--stack <name>', 'bring this stack up first and down at the end (corridor)')
    .option(...CONFIG)
    .option(...PREFIX)
    .option('--out <dir>', 'results directory (default: followme-results/<plan name>)')
    .option('--keep', 'with --stack: leave the testbed up at the end');
}
function reportCommand() {
  return new Command('report')
    .description('build the report (Markdown, HTML, SVG charts, runs.csv, summary.json) from a results directory alone')
    .argument('<dir>', 'results directory of `followme experiment` or `followme follow`')
    .option('--out <dir>', 'where the report goes (default: DIR/report)');
}

function traceSynthCommand() {
  return new Command('synth')
    .description("write a CSV trip along the whole road of a stack's edges, one position a second (for labs without SUMO)")
    .option('--stack <name>', 'a stack whose edges have a road (stacks/Pulumi.<name>.yaml)', 'corridor')
    .option(...CONFIG)
    .option('--speed <kmh>', 'the constant speed, km/h', '50')
    .option('--out <file>', 'where the CSV goes (default: stdout)');
}
function traceShowCommand() {
  return new Command('show')
    .description("a trip without a testbed: its duration, its length, and each border crossing between the stack's cells")
    .argument('<file>', 'a trace: SUMO FCD XML, the ONE simulator format, or CSV t,x,y')
    .option('--stack <name>', 'a stack whose edges have a road (stacks/Pulumi.<name>.yaml)', 'corridor')
    .option(...CONFIG)
    .option('--vehicle <id>', 'the vehicle to follow, when the trace has several')
    .option('--json', 'print {"durationS", "lengthM", "crossings": [{"t", "from", "to"}]}');
}

type FlagsOf<F extends () => { opts(): unknown }> = ReturnType<ReturnType<F>['opts']>;
export type ImageBuildFlags = FlagsOf<typeof imageBuildCommand>;
export type TestbedUpFlags = FlagsOf<typeof testbedUpCommand>;
export type TestbedFlags = ReturnType<ReturnType<typeof testbedCommand>['opts']>;
export type DemoFlags = FlagsOf<typeof demoCommand>;
export type ContainerDeployFlags = FlagsOf<typeof containerDeployCommand>;
export type ContainerRemoveFlags = FlagsOf<typeof containerRemoveCommand>;
export type MigrateFlags = FlagsOf<typeof migrateCommand>;
export type ExperimentFlags = FlagsOf<typeof experimentCommand>;
export type RecoverFlags = FlagsOf<typeof recoverCommand>;
export type ReportFlags = FlagsOf<typeof reportCommand>;
export type FollowFlags = FlagsOf<typeof followCommand>;
export type TraceSynthFlags = FlagsOf<typeof traceSynthCommand>;
export type TraceShowFlags = FlagsOf<typeof traceShowCommand>;

/** The whole command tree; a new one per run (commander keeps parsed values on it). */
export function buildProgram(io: CliIo): Command {
  const program = new Command('followme')
    .description('Container live-migration testbeds on libvirt, and migration experiments across them')
    .version(packageVersion(), '-V, --version', 'print the version of followme');

  const image = program.command('image').description('guest images');
  image.addCommand(imageBuildCommand().action(async (o) => (await import('./commands/image.js')).imageBuild(o)));

  const testbed = program.command('testbed').description('bring a testbed up or down without the Pulumi CLI');
  testbed.addCommand(testbedUpCommand().action(async (o) => (await import('./commands/testbed.js')).testbedUp(o)));
  testbed.addCommand(
    testbedCommand('status', 'show what exists in libvirt for a testbed and whether each node answers').action(async (o) =>
      (await import('./commands/testbed.js')).testbedStatus(o),
    ),
  );
  testbed.addCommand(
    testbedCommand('down', 'remove every libvirt object of a testbed, found by prefix and ownership marks (no inventory needed)').action(async (o) =>
      (await import('./commands/testbed.js')).testbedDown(o),
    ),
  );
  testbed.addCommand(
    testbedCommand('cycle', 'up, check every node over SSH, down: the end-to-end smoke run').action(async (o) =>
      (await import('./commands/testbed.js')).testbedCycle(o),
    ),
  );

  program.addCommand(demoCommand().action(async (o) => (await import('./commands/demo.js')).demo(o)));

  program
    .command('doctor')
    .description(
      'check what a migration needs, before anything runs: the host (hypervisor, libvirt, disk, subnet, image) and each edge (CRIU, its features for every strategy, cpuinfo, clocks, NFS); exit 1 when a strategy cannot run',
    )
    .option('--stack <name>', 'testbed stack (stacks/Pulumi.<name>.yaml); its edges are checked when it is up (default: two-vm)')
    .option(...CONFIG)
    .option(...INVENTORY)
    .action(async (o) => (await import('./commands/doctor.js')).doctor(o));
  const container = program.command('container').description("a workload's container on an edge");
  container.addCommand(containerDeployCommand().action(async (o) => (await import('./commands/container.js')).containerDeploy(o)));
  container.addCommand(containerRemoveCommand().action(async (o) => (await import('./commands/container.js')).containerRemove(o)));

  program.addCommand(migrateCommand().action(async (o) => (await import('./commands/migrate.js')).migrateCommand(o)));
  program.addCommand(recoverCommand().action(async (o) => (await import('./commands/recover.js')).recoverCommand(o)));
  program.addCommand(experimentCommand().action(async (o) => (await import('./commands/experiment.js')).experimentCommand(o)));
  program.addCommand(followCommand().action(async (o) => (await import('./commands/follow.js')).followCommand(o)));
  const trace = program.command('trace').description('mobility traces: a trip checked and shown, or synthesised along a road');
  trace.addCommand(traceSynthCommand().action(async (o) => (await import('./commands/trace.js')).traceSynth(o)));
  trace.addCommand(traceShowCommand().action(async (file, o) => (await import('./commands/trace.js')).traceShow(file, o)));
  program.addCommand(reportCommand().action(async (dir, o) => (await import('./commands/report.js')).reportCommand(dir, o)));

  // Every command, however it was added: throw instead of exiting, write to `io`, show the usage after an error.
  const all = (c: CommandUnknownOpts): CommandUnknownOpts[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(program)) {
    c.exitOverride()
      .configureOutput({ writeOut: (t) => io.out(t), writeErr: (t) => io.err(t) })
      .showHelpAfterError();
  }
  return program;
}

/** Runs followme with `argv` (the arguments after the program name); resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  useIo(io);
  try {
    // The environment is input too: checked before any command starts.
    stateDir();
    cacheDir();
    await buildProgram(io).parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (e) {
    // Commander has printed its message and the usage; help and --version end with 0.
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    const code = exitCodeFor(e);
    if (e instanceof FollowmeError) printError(`followme: ${e.message}\n`);
    else printError(`followme: unexpected error (a bug):\n${(e as Error)?.stack ?? String(e)}\n`);
    return code;
  }
}
