// The migration record: one JSON object per migration, the only thing reports
// are made from. TypeBox gives the JSON Schema that ajv checks and the static
// type from one definition. Times are milliseconds unless a name says `Us`.
import { Type, type Static } from '@sinclair/typebox';
// The registry provides the `registered: "strategy"` list (common/input/registered.ts).
import '../strategies/index.js';
import { COMMAND_KINDS } from '../edge-command.js';

/** A registered strategy's name (migration/strategies/registry.ts), checked against the registry at each validation. */
export const StrategyNameSchema = Type.String({ registered: 'strategy' });

export const PHASE_KINDS = [
  'rootfs-copy', // Γ: the root file system copied while the container runs
  'pre-dump', // γᵢ: one pre-dump, container running
  'pre-dump-copy', // the copy of that pre-dump's images
  'final-dump', // container frozen from here on
  'final-copy', // last images and a last rootfs sync
  'restore', // the container running on the destination ends it
  'lazy-pages', // post-copy: the container runs on the destination while its last pages arrive
] as const;

const Ms = Type.Number({ minimum: 0 });
const Count = Type.Integer({ minimum: 0 });

export const DumpStatsSchema = Type.Object(
  {
    freezingTimeUs: Count,
    frozenTimeUs: Count,
    memdumpTimeUs: Count,
    memwriteTimeUs: Count,
    pagesScanned: Count,
    pagesSkippedParent: Count,
    pagesWritten: Count,
    pagesLazy: Count,
  },
  { additionalProperties: false },
);

export const RestoreStatsSchema = Type.Object(
  { pagesCompared: Count, pagesSkippedCow: Count, forkingTimeUs: Count, restoreTimeUs: Count, pagesRestored: Count },
  { additionalProperties: false },
);

/** One remote command of a phase, timed on the node that ran it. */
export const CommandTimingSchema = Type.Object(
  {
    node: Type.String(),
    /** What kind of step it was (edge-command.ts); absent in records written before kinds. */
    kind: Type.Optional(Type.Union(COMMAND_KINDS.map((k) => Type.Literal(k)))),
    /** What it acted on, e.g. "rsync images pre-1" (the kind, where nothing more is said); never secrets. */
    label: Type.String(),
    /** Wall time on the node, from just before exec to just after exit. */
    remoteMs: Ms,
    /** Wall time on the controller around the same command (includes SSH). */
    wallMs: Ms,
    /** When it started, on the node's clock (ms since the epoch). */
    remoteStartMs: Type.Optional(Ms),
    /** When the controller sent it: offset from the migration's start (the first phase), on the controller's clock. */
    startMs: Type.Optional(Type.Number()),
    exitCode: Type.Integer(),
  },
  { additionalProperties: false },
);

/** Why a strategy chose a phase from what it measured: the rule that held, and the numbers. */
export const PhaseDecisionSchema = Type.Object({ rule: Type.String(), detail: Type.String() }, { additionalProperties: false });
export type PhaseDecision = Static<typeof PhaseDecisionSchema>;

export const PhaseSchema = Type.Object(
  {
    name: Type.String(),
    kind: Type.Union(PHASE_KINDS.map((k) => Type.Literal(k))),
    /** 1-based for pre-dumps and their copies. */
    iteration: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Offset from the start of the migration. */
    startMs: Ms,
    durationMs: Ms,
    commands: Type.Array(CommandTimingSchema),
    bytes: Type.Optional(Count),
    decision: Type.Optional(PhaseDecisionSchema),
  },
  { additionalProperties: false },
);

export const IterationSchema = Type.Object(
  {
    iteration: Type.Integer({ minimum: 1 }),
    kind: Type.Union([Type.Literal('pre-dump'), Type.Literal('dump')]),
    imagesDir: Type.String(),
    stats: DumpStatsSchema,
  },
  { additionalProperties: false },
);

/** A fault injected into the migration on purpose (followme experiment's fault, the fault suite). */
export const FaultRecordSchema = Type.Object(
  {
    kind: Type.String(),
    /** The phase at whose start it went in ("source cleanup" included). */
    phase: Type.String(),
    /** How long after that start. */
    afterMs: Type.Optional(Ms),
    /** False when the migration ended before the fault's moment came. */
    injected: Type.Boolean(),
    /** What was done to put it in, and to take it away again. */
    did: Type.Array(Type.String()),
    healed: Type.Array(Type.String()),
    /** Injecting or healing went wrong: the fault's effect is not the one asked for. */
    errors: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);
export type FaultRecord = Static<typeof FaultRecordSchema>;

export const LazySchema = Type.Object(
  {
    /** When the container ran on the destination (the restore's end): offset from the first phase's start. */
    restoredAtMs: Ms,
    /** When the last page had arrived (the source's lazy dump ended): offset from the first phase's start. */
    lastPageAtMs: Type.Optional(Ms),
    /** The lazy window: from the restore's end to the last page. Losing the source or the link in it loses the state. */
    windowMs: Type.Optional(Ms),
    /** Pages sent before the restore: every pre-dump's and the final dump's written pages (CRIU's statistics). */
    pagesBeforeRestore: Type.Optional(Count),
    /** Pages left for the lazy window (the destination daemon's count). */
    pagesLazy: Count,
    /** Pages the daemon copied in, on fault or in the background. */
    pagesSentLazily: Count,
    /** Page faults the daemon served. */
    faults: Count,
    /** Pages that never arrived: set when the window was lost. */
    pagesNotArrived: Type.Optional(Count),
    /** Something the lazy window left unsaid (the source's dump did not log its end). */
    warning: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type LazyRecord = Static<typeof LazySchema>;

const Versions = Type.Object({ kernel: Type.String(), criu: Type.String(), lxc: Type.String() }, { additionalProperties: false });

export const MigrationRecordSchema = Type.Object(
  {
    /** 2: downtime counted from the freeze (the final CRIU dump that succeeded), not from the final-dump phase's start. */
    recordVersion: Type.Literal(2),
    id: Type.String({ minLength: 1 }),
    startedAt: Type.String({ format: 'date-time' }),
    strategy: StrategyNameSchema,
    testbed: Type.String(),
    container: Type.String(),
    containerIp: Type.String(),
    from: Type.String(),
    to: Type.String(),
    predumps: Count,
    outcome: Type.Union([Type.Literal('migrated'), Type.Literal('rolled-back'), Type.Literal('failed')]),
    /** Set unless outcome is "migrated": the phase that failed and why. */
    error: Type.Optional(
      Type.Object(
        {
          phase: Type.String(),
          message: Type.String(),
          rollback: Type.String(),
          /** The container's in-memory state no longer exists anywhere, and why (diskless: its pages went with the destination). */
          stateLost: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
    phases: Type.Array(PhaseSchema),
    /** Checks and set-up before the first phase (receivers, directories, versions); outside Ψ. */
    setupMs: Ms,
    /** Ψ: from the first phase's start to the end of the last phase: the container running on the destination, or for post-copy its last page arrived. */
    totalMs: Ms,
    /** From the freeze (the start of the final CRIU dump that succeeded) to the container running on the destination. */
    downtimeMs: Type.Optional(Ms),
    /** When the freeze began: offset from the start of the first phase (the final dump's end less CRIU's frozen and freezing times). */
    freezeAtMs: Type.Optional(Ms),
    /** The same window counted in remote command time only. */
    downtimeRemoteMs: Type.Optional(Ms),
    iterations: Type.Array(IterationSchema),
    lastDumpPagesWritten: Type.Optional(Count),
    /** A post-copy move's lazy window (criu/lazy.ts): what came before the restore, what came after, and how long the memory was split. */
    lazy: Type.Optional(LazySchema),
    restoreStats: Type.Optional(RestoreStatsSchema),
    bytesMoved: Count,
    /** Sum of all phases' remote command times. */
    remoteCommandMs: Ms,
    /** totalMs − remoteCommandMs: what the engine and SSH add (less a lazy window's time between its reads: the daemon's, only watched). */
    engineOverheadMs: Type.Number(),
    /** Removing the source copy after success; outside Ψ. */
    cleanupMs: Type.Optional(Ms),
    /** Set when cleanup of the source failed after the point of no return. */
    cleanupWarning: Type.Optional(Type.String()),
    versions: Type.Record(Type.String(), Versions),
    /** Time spent in awaited event listeners (progress output, test hooks): paused out of Ψ and of every phase. */
    listenerMs: Type.Optional(Ms),
    /** Errors thrown by event listeners; they never change the migration. */
    listenerErrors: Type.Optional(Type.Array(Type.String())),
    /** What this record lacks and why (CRIU's statistics could not be read, say); the migration's outcome stands. */
    missing: Type.Optional(Type.Array(Type.String())),
    /** Dumps that failed once and were tried again (see withOneRetry): the phase, and the first attempt's error. */
    retries: Type.Optional(Type.Array(Type.Object({ phase: Type.String(), error: Type.String() }, { additionalProperties: false }))),
    fault: Type.Optional(FaultRecordSchema),
    /** Consistency checks this record failed when it was written: its timings are not to be trusted, its outcome is. */
    problems: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: false },
);

export type MigrationRecord = Static<typeof MigrationRecordSchema>;
export type PhaseRecord = Static<typeof PhaseSchema>;
export type PhaseKind = (typeof PHASE_KINDS)[number];
export type CommandTiming = Static<typeof CommandTimingSchema>;
export type IterationRecord = Static<typeof IterationSchema>;
export type StrategyName = string;
