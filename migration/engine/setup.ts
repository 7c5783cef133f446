// Before the first phase: check that the migration can start, and change
// nothing if it cannot. Then make the directories and receivers the phases
// need. Outside Ψ (the record keeps its time as setupMs).
import { ConfigError, ConflictError, FollowmeError } from '../../common/errors.js';
import type { Inventory } from '../../common/inventory.js';
import type { Edge, EdgeVersions } from '../edge.js';
import { underBase } from '../../common/input/remote-path.js';
import { LXC_PATH } from '../lxc/commands.js';
import { criu, type ContainerProcess } from '../criu/commands.js';
import { MissingFeatureError, missingFeaturesMessage } from '../criu/features.js';
import { command } from '../edge-command.js';
import { postDumpHook, postDumpHookPath } from '../criu/post-dump-hook.js';
import { hostLinkFor, preparedNetworkOf, type PreparedNetwork } from '../lxc/network.js';
import type { RsyncReceiver } from '../rsync/commands.js';
import type { SetupMade } from '../storage/types.js';
import type { Strategy } from './types.js';

export interface SetupResult {
  proc: ContainerProcess;
  versions: Record<string, EdgeVersions>;
  receiver?: RsyncReceiver;
  /** The container's config as found on the source. */
  config: string;
  /** The network namespace set-up prepared on the destination, when the strategy's dump leaves it out. */
  network?: PreparedNetwork;
}

/** `lxc.rootfs.path = dir:/x/rootfs` → "/x/rootfs". */
export function rootfsPathOf(config: string): string | undefined {
  const m = /^\s*lxc\.rootfs\.path\s*=\s*(?:dir:)?(\S+)\s*$/m.exec(config);
  return m?.[1];
}

export { portsFor, receiverRunDir } from './ports.js';
export type { SetupMade } from '../storage/types.js';

export const nothingMade = (): SetupMade => ({ sourceWorkDir: false, destWorkDir: false, destLxcDir: false, receiver: false, destNetwork: false });

export async function checkAndPrepare(o: {
  strategy: Strategy;
  inventory: Inventory;
  container: string;
  source: Edge;
  dest: Edge;
  workDir: string;
  /** Image directories of every iteration, made here so the timed phases need not. */
  iterationDirs: string[];
  id: string;
  /** Filled in as set-up makes things. */
  made: SetupMade;
  /** Called once every check has passed, before anything is made. */
  onChecked?: () => void;
}): Promise<SetupResult> {
  const { strategy, source, dest, container, made } = o;
  const lxcDir = underBase(LXC_PATH, container);

  // Checks first: nothing is changed until they all pass.
  const state = await source.state(container);
  if (state !== 'RUNNING') {
    throw new ConfigError(`container ${container} is ${state ?? 'absent'} on ${source.name}; only a RUNNING container can be migrated`, 'container');
  }
  if ((await dest.state(container)) !== undefined || (await dest.exists(lxcDir))) {
    throw new ConflictError(`container ${container} already exists on ${dest.name} (${lxcDir}); remove it there first`);
  }
  const config = (await source.readFile(`${lxcDir}/config`, 'read-config')).toString('utf8');
  const rootfs = rootfsPathOf(config);
  if (!rootfs) throw new FollowmeError(`${source.name}: ${lxcDir}/config has no lxc.rootfs.path`);
  await strategy.storage.check({ strategy: strategy.name, inventory: o.inventory, container, lxcDir, rootfs, source, dest });
  const versions = { [source.name]: await source.versions(), [dest.name]: await dest.versions() };
  const missing = new Map<string, string[]>();
  for (const e of [source, dest]) {
    const lacks = await e.missingCriuFeatures(strategy.criuFeatures);
    if (lacks.length) missing.set(e.name, lacks);
  }
  if (missing.size) throw new MissingFeatureError(missingFeaturesMessage(strategy.name, missing));
  const proc = await source.containerProcess(container);
  const network = strategy.criu?.network === 'prepared' ? preparedNetworkOf(container, config, hostLinkFor(o.id, dest.name)) : undefined;

  // Set-up.
  o.onChecked?.();
  // Outside Ψ, and only an optimisation: an edge that cannot make the cache still migrates.
  if (strategy.criu?.warmKdat) for (const e of [source, dest]) await e.exec(command('warm-kdat', criu.warmKdat()), { allowFailure: true });
  made.sourceWorkDir = true;
  await source.makeDumpDirs(o.iterationDirs, { path: postDumpHookPath(o.workDir), text: postDumpHook(proc.hostLinks) });
  const { receiver } = await strategy.storage.prepare({ id: o.id, source, dest, lxcDir, workDir: o.workDir, iterationDirs: o.iterationDirs, config, made });
  if (network) {
    made.destNetwork = true;
    await dest.prepareNetwork(network);
  }
  return { proc, versions, config, ...(receiver ? { receiver } : {}), ...(network ? { network } : {}) };
}
