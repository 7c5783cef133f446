// Whether the source's old copy of a container answers once CRIU has locked
// it. From the start of the final dump to the start of the restore, this
// opens two TCP connections to the container's address every millisecond. The
// old copy's namespace drops everything after CRIU locks it, and the new
// copy does not exist yet. A refused attempt is therefore a reset from the
// old copy: its namespace, in the moment the kernel tears it down, without
// the lock (issue #20, docs/tcp-streams.md). Before the post-dump hook,
// that moment (1 to 15 ms) reset a live stream now and then; one attempt a
// millisecond caught it on 5 of 9 moves. Bounded: at most MAX_ATTEMPTS,
// each given up after 100 ms.
import { connect } from 'node:net';
import type { MigrationEvent } from '../../migration/engine/types.js';

const MAX_ATTEMPTS = 20_000;
const ATTEMPTS_PER_MS = 2;
const ATTEMPT_TIMEOUT_MS = 100;

export interface OldCopyProbeReport {
  attempts: number;
  connected: number;
  /** Refused: a TCP reset from the container's address while no copy should answer. */
  refused: number;
  /** When each refusal came, in ms from the start of the final dump (at most 20 kept). */
  refusedAtMs: number[];
}

export function oldCopyProbe(ip: string, port: number) {
  const report: OldCopyProbeReport = { attempts: 0, connected: 0, refused: 0, refusedAtMs: [] };
  let armedAt: number | undefined;
  let loop: Promise<void> | undefined;

  const attempt = () => {
    report.attempts++;
    const at = Date.now() - armedAt!;
    const s = connect({ host: ip, port });
    s.setTimeout(ATTEMPT_TIMEOUT_MS, () => s.destroy());
    s.on('connect', () => {
      report.connected++;
      s.destroy();
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'ECONNREFUSED') return;
      report.refused++;
      if (report.refusedAtMs.length < 20) report.refusedAtMs.push(at);
    });
  };
  const run = async () => {
    while (armedAt !== undefined && report.attempts < MAX_ATTEMPTS) {
      for (let i = 0; i < ATTEMPTS_PER_MS; i++) attempt();
      await new Promise((r) => setTimeout(r, 1));
    }
  };

  return {
    report,
    /** The migration's listener: armed by the final dump, disarmed by the restore. */
    onEvent(e: MigrationEvent): void {
      if (e.type !== 'phase-start') return;
      if (e.name.startsWith('final dump') && armedAt === undefined) {
        armedAt = Date.now();
        loop = run();
      } else if (e.name === 'restore') armedAt = undefined;
    },
    /** Stops probing (if the migration ended early) and waits for the last attempts to settle. */
    async stop(): Promise<OldCopyProbeReport> {
      armedAt = undefined;
      await loop;
      await new Promise((r) => setTimeout(r, ATTEMPT_TIMEOUT_MS + 50));
      return report;
    },
  };
}
