// The controller of one migration, in a process of its own, for the fault
// controller-killed: it runs `migrate` and, at the fault's moment, kills
// itself with SIGKILL, as a crash would, with no chance to clean anything up.
// The runner (controller-killed.ts) sends the request over IPC and hears the
// events, the moment of the kill, or the record if the migration ended first.
import { validateInventory, type Inventory } from '../common/inventory.js';
import { migrate, MigrationFailedError } from '../migration/engine/migrate.js';
import type { FaultHook, MigrationEvent } from '../migration/engine/types.js';
import type { MigrationRecord, StrategyName } from '../migration/record/schema.js';
import { CONTROLLER_KILLED } from './faults.js';

/** The migration the child makes. */
export interface Move {
  inventory: Inventory;
  strategy: StrategyName;
  container: string;
  from: string;
  to: string;
  predumps: number;
}

export interface ChildRequest extends Move {
  phase: string;
  afterMs?: number;
}

export type ChildMessage =
  | { type: 'event'; event: MigrationEvent }
  /** Sent just before the SIGKILL: the journal then holds the step it died in. */
  | { type: 'killing'; pid: number; phase: string; afterMs: number }
  /** The migration ended before the moment came (it failed earlier, or the delay outlasted it). */
  | { type: 'record'; record: MigrationRecord; failure?: string }
  | { type: 'error'; message: string };

const send = (m: ChildMessage): Promise<void> => new Promise((resolve) => process.send!(m, undefined, {}, () => resolve()));

function killer(req: ChildRequest): FaultHook & { cancel(): void } {
  let armed = false;
  let timer: NodeJS.Timeout | undefined;
  const afterMs = req.afterMs ?? 0;
  return {
    kind: CONTROLLER_KILLED,
    phase: req.phase,
    healBeforeRollback: true,
    async inject() {
      if (armed) return;
      armed = true;
      // A timer even at 0 ms: the engine first journals the phase and starts its first command, then the process dies.
      timer = setTimeout(() => {
        void send({ type: 'killing', pid: process.pid, phase: req.phase, afterMs }).then(() => process.kill(process.pid, 'SIGKILL'));
      }, afterMs);
    },
    async heal() {},
    cancel() {
      if (timer) clearTimeout(timer);
    },
    report() {
      return {
        kind: CONTROLLER_KILLED,
        phase: req.phase,
        ...(afterMs ? { afterMs } : {}),
        injected: false,
        did: armed ? [`the migration ended before ${afterMs} ms into "${req.phase}": the controller was not killed`] : [],
        healed: [],
      };
    },
  };
}

async function run(req: ChildRequest): Promise<void> {
  const inventory = validateInventory(req.inventory, 'the runner');
  const fault = killer(req);
  const o = { ...req, inventory, fault, onEvent: (event: MigrationEvent) => send({ type: 'event', event }) };
  try {
    const record = await migrate(o);
    fault.cancel();
    await send({ type: 'record', record });
  } catch (e) {
    fault.cancel();
    if (e instanceof MigrationFailedError) await send({ type: 'record', record: e.record, failure: e.message });
    else await send({ type: 'error', message: (e as Error)?.message ?? String(e) });
  }
  finished = true;
  process.disconnect();
}

let finished = false;
// The runner and this process are one controller: if the runner dies, so does its migration, as it would in one process.
process.on('disconnect', () => {
  if (!finished) process.kill(process.pid, 'SIGKILL');
});
process.once('message', (req: ChildRequest) => {
  void run(req);
});
