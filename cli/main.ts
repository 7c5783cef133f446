#!/usr/bin/env node
// followme: what Pulumi does not do. One registry of commands; each command
// module is loaded only when used. Expected errors (FollowmeError) print one
// message and map to an exit code; anything else is a bug and shows its stack.
import { Command } from 'commander';
import { CommandError, ConfigError, ConflictError, FollowmeError, ReadinessTimeoutError } from '../common/errors.js';

export function exitCodeFor(e: unknown): number {
  if (e instanceof ConfigError) return 2;
  if (e instanceof ConflictError) return 3;
  if (e instanceof ReadinessTimeoutError) return 4;
  if (e instanceof CommandError) return 5;
  // A migration that failed and was rolled back (or not): its record says which.
  if (e instanceof FollowmeError && e.name === 'MigrationFailedError') return 6;
  if (e instanceof FollowmeError) return 1;
  return 70;
}

const program = new Command('followme')
  .description('Container live-migration testbeds on libvirt, and migration experiments across them')
  .showHelpAfterError();

const stackOption = ['--stack <name>', 'testbed stack (stacks/Pulumi.<name>.yaml): two-vm or three-vm-nfs', 'two-vm'] as const;
const configOption = ['--config <file>', 'a stack config file to use instead of --stack'] as const;

const image = program.command('image').description('guest images');
image
  .command('build')
  .description('build (or reuse from the cache) the guest image of a stack')
  .option(...stackOption)
  .option(...configOption)
  .action(async (o) => (await import('./commands/image.js')).imageBuild(o));

const testbed = program.command('testbed').description('bring a testbed up or down without the Pulumi CLI');
testbed
  .command('up')
  .description('build the image if needed, create the VMs in parallel, wait until they are ready, write the inventory')
  .option(...stackOption)
  .option(...configOption)
  .option('--prefix <prefix>', 'override the stack prefix (names of all libvirt objects)')
  .option('--inventory <file>', 'where to write the inventory JSON (default: the state dir)')
  .option('--no-wait', 'create everything but do not wait for readiness')
  .action(async (o) => (await import('./commands/testbed.js')).testbedUp(o));
testbed
  .command('status')
  .description('show what exists in libvirt for a testbed and whether each node answers')
  .option(...stackOption)
  .option(...configOption)
  .option('--prefix <prefix>', 'override the stack prefix')
  .action(async (o) => (await import('./commands/testbed.js')).testbedStatus(o));
testbed
  .command('down')
  .description('remove every libvirt object of a testbed, found by prefix and ownership marks (no inventory needed)')
  .option(...stackOption)
  .option(...configOption)
  .option('--prefix <prefix>', 'override the stack prefix')
  .action(async (o) => (await import('./commands/testbed.js')).testbedDown(o));
testbed
  .command('cycle')
  .description('up, check every node over SSH, down: the end-to-end smoke run')
  .option(...stackOption)
  .option(...configOption)
  .option('--prefix <prefix>', 'override the stack prefix')
  .action(async (o) => (await import('./commands/testbed.js')).testbedCycle(o));

program
  .command('demo')
  .description('the main job: image, testbed up, blank container migrated by every strategy, results table, testbed down')
  .option('--stack <name>', 'testbed stack (three-vm-nfs runs all three strategies; two-vm skips shared)', 'three-vm-nfs')
  .option(...configOption)
  .option('--prefix <prefix>', 'override the stack prefix')
  .option('--predumps <n>', 'pre-dump iterations before each final dump', '2')
  .option('--out <file>', 'JSON-lines file the records are appended to', 'followme-results/migrations.jsonl')
  .option('--keep', 'leave the testbed and containers up at the end')
  .action(async (o) => (await import('./commands/demo.js')).demo(o));

const container = program.command('container').description('the blank container on an edge');
container
  .command('deploy')
  .description('copy the blank container from the guest template, bridge it onto the testbed network at a fixed address, start it')
  .requiredOption('--inventory <file>', 'inventory JSON of the testbed')
  .requiredOption('--node <edge>', 'edge to deploy on')
  .option('--name <name>', 'container name', 'blank')
  .option('--address <index>', "index into the inventory's containerAddresses", '0')
  .option('--shared', 'put the rootfs on the NFS share (for --strategy shared)')
  .action(async (o) => (await import('./commands/container.js')).containerDeploy(o));
container
  .command('remove')
  .description('stop and remove a container from an edge (absent is fine)')
  .requiredOption('--inventory <file>', 'inventory JSON of the testbed')
  .requiredOption('--node <edge>', 'edge to remove it from')
  .option('--name <name>', 'container name', 'blank')
  .option('--shared', 'also remove its rootfs from the NFS share')
  .action(async (o) => (await import('./commands/container.js')).containerRemove(o));

program
  .command('migrate')
  .description('live-migrate a running container between two edges; prints each phase, the summary, and appends the JSON record')
  .requiredOption('--inventory <file>', 'inventory JSON of the testbed')
  .requiredOption('--strategy <name>', 'tmpfs, diskless or shared')
  .requiredOption('--from <edge>', 'source edge')
  .requiredOption('--to <edge>', 'destination edge')
  .option('--container <name>', 'container to migrate', 'blank')
  .option('--predumps <n>', 'pre-dump iterations before the final dump', '2')
  .option('--out <file>', 'JSON-lines file the record is appended to', 'followme-results/migrations.jsonl')
  .action(async (o) => (await import('./commands/migrate.js')).migrateCommand(o));

try {
  await program.parseAsync(process.argv);
} catch (e) {
  const code = exitCodeFor(e);
  if (e instanceof FollowmeError) process.stderr.write(`followme: ${e.message}\n`);
  else process.stderr.write(`followme: unexpected error (a bug):\n${(e as Error)?.stack ?? String(e)}\n`);
  process.exitCode = code;
}
