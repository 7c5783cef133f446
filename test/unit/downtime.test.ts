// The downtime window starts at the freeze: the final CRIU dump that
// succeeded, not the final-dump phase (which for diskless first starts a
// page server on the destination, and may hold a failed first attempt
// after which the container ran again).
import { describe, expect, it } from 'vitest';
import { freezeAtMs, freezingCommand, remoteMsFrom } from '../../migration/engine/downtime.js';
import type { CommandKind } from '../../migration/edge-command.js';
import type { CommandTiming, PhaseRecord } from '../../migration/record/schema.js';
import { validateRecord } from '../../migration/record/validate.js';
import { record } from './fixtures-record.js';

const cmd = (node: string, kind: CommandKind, startMs: number, wallMs: number, remoteMs: number, exitCode = 0): CommandTiming => ({
  node,
  kind,
  label: kind,
  startMs,
  wallMs,
  remoteMs,
  exitCode,
});

// A diskless migration: the final-dump phase starts at 10 000 ms with a page
// server start (700 ms), a dump that fails (the container thaws and runs
// on), a reset, a second page server, then the dump that succeeds at 12 000 ms.
const phases: PhaseRecord[] = [
  { name: 'rootfs copy', kind: 'rootfs-copy', startMs: 0, durationMs: 10_000, commands: [cmd('edge-a', 'rsync-rootfs', 5, 9990, 9900)] },
  {
    name: 'final dump (page server)',
    kind: 'final-dump',
    startMs: 10_000,
    durationMs: 3000,
    commands: [
      cmd('edge-b', 'criu-page-server', 10_000, 700, 600),
      cmd('edge-a', 'criu-dump', 10_700, 600, 580, 1),
      cmd('edge-a', 'lxc-state', 11_300, 100, 20),
      cmd('edge-b', 'criu-page-server', 11_400, 600, 500),
      cmd('edge-a', 'criu-dump', 12_000, 900, 800),
      cmd('edge-b', 'wait-exit', 12_900, 100, 50),
    ],
  },
  { name: 'final copy', kind: 'final-copy', startMs: 13_000, durationMs: 1000, commands: [cmd('edge-a', 'rsync-images', 13_000, 1000, 950)] },
  { name: 'restore', kind: 'restore', startMs: 14_000, durationMs: 2000, commands: [cmd('edge-b', 'lxc-restore', 14_000, 2000, 1900)] },
];

describe('downtime from the freeze', () => {
  it('starts at the dump that succeeded, not at the page server the phase started first', () => {
    expect(freezingCommand(phases)?.startMs).toBe(12_000);
    // Sent at 12 000 ms; it began on the source half its 100 ms of SSH overhead later.
    expect(freezeAtMs(phases)).toBe(12_050);
    const total = 16_000;
    expect(total - freezeAtMs(phases)!).toBe(3950);
    // What the phase-based window said: 6000 ms, counting the page servers and the failed attempt.
    expect(total - phases[1]!.startMs).toBe(6000);
  });

  it("places the freeze inside that dump from CRIU's own statistics: frozen and freezing time before the dump ended", () => {
    // The dump ran 800 ms on the source from 12 050 ms; its tasks were frozen for its last 500 ms, after 100 ms of freezing.
    expect(freezeAtMs(phases, { frozenTimeUs: 500_000, freezingTimeUs: 100_000 })).toBe(12_250);
    // Statistics that claim more than the command's own time cannot move the freeze before the command.
    expect(freezeAtMs(phases, { frozenTimeUs: 5_000_000, freezingTimeUs: 0 })).toBe(12_050);
  });

  it('counts the remote time of the freezing dump and everything after it, nothing before', () => {
    expect(remoteMsFrom(phases, freezeAtMs(phases)!)).toBe(800 + 50 + 950 + 1900);
    // With the freeze placed from CRIU's stats 200 ms into the dump, only the dump's last 600 ms are inside the window.
    expect(remoteMsFrom(phases, 12_250)).toBe(600 + 50 + 950 + 1900);
  });

  it('is undefined when the final dump never succeeded', () => {
    const failed = phases.map((p) => (p.kind === 'final-dump' ? { ...p, commands: p.commands.filter((c) => c.exitCode !== 0) } : p));
    expect(freezeAtMs(failed)).toBeUndefined();
  });

  it('a record whose freeze and downtime do not add up to the total is refused', () => {
    expect(() => validateRecord(record({ freezeAtMs: 9850, downtimeMs: 5150 }))).not.toThrow();
    expect(() => validateRecord(record({ freezeAtMs: 9800, downtimeMs: 5150 }))).toThrow(/freeze at 9800.0 ms plus the downtime/);
  });
});
