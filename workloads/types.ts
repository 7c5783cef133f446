// A workload is one module: the container template built into the guest
// image, how its service is set up and asked, how a client on the controller
// uses it, and how to tell that its in-memory state went on through a move.
// Nothing outside a workload's file knows what its container does.
import { type Static, type TObject, Type } from '@sinclair/typebox';
import type { SshConnection } from '../common/ssh/transport.js';

export const WORKLOAD_NAMES = ['blank', 'video', 'memory', 'tcp'] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

export interface ContainerTemplate {
  /** Debian packages debootstrapped into the template. */
  packages: readonly string[];
  /** Files of workloads/guest/<name>/ copied into the template: name there, absolute path in the rootfs, mode. */
  files: readonly { from: string; to: string; mode: number }[];
}

/** Where the service probe and the state check ask: HTTP on the container's address. */
export interface ServiceEndpoint {
  port: number;
  path: string;
}

/** The workload's state as read from the controller: a counter that only grows, and whether its memory checks out. */
export interface StateReading {
  progress: number;
  intact: boolean;
  text: string;
}

export const StallSchema = Type.Object({ atMs: Type.Number({ minimum: 0 }), ms: Type.Number({ minimum: 0 }) }, { additionalProperties: false });

/** What a workload's own client on the controller saw while it ran. */
export const ClientReportSchema = Type.Object(
  {
    kind: Type.String(),
    /** TCP connections it had to open: 1 means the first one survived every move. */
    connections: Type.Integer({ minimum: 0 }),
    requests: Type.Integer({ minimum: 0 }),
    bytes: Type.Integer({ minimum: 0 }),
    /** Bytes checked against what the server sent (the file, or the client's own pattern): a wrong byte is an error. */
    verifiedBytes: Type.Optional(Type.Integer({ minimum: 0 })),
    /** How long it ran, from its start to its stop. */
    ranMs: Type.Number({ minimum: 0 }),
    /** Each time playback (or service) stopped for want of data: when (from the client's start) and for how long. */
    stalls: Type.Array(StallSchema),
    longestStallMs: Type.Number({ minimum: 0 }),
    /** Set when the connection broke or an answer was wrong. */
    error: Type.Optional(Type.String()),
    /** When the error came, from the client's start: places it against the migration's phases. */
    errorAtMs: Type.Optional(Type.Number({ minimum: 0 })),
  },
  { additionalProperties: false },
);
export type ClientReport = Static<typeof ClientReportSchema>;

export interface WorkloadClient {
  /** Ends the client (bounded: it also ends by itself at its time limit) and reports. */
  stop(): Promise<ClientReport>;
}

export interface Workload<P extends Record<string, unknown> = Record<string, unknown>> {
  name: WorkloadName;
  summary: string;
  template: ContainerTemplate;
  /** The plan's parameters of this workload (TypeBox: schema and type from one definition). */
  params: TObject;
  defaults: P;
  service: ServiceEndpoint;
  /**
   * Before the container first starts: writes its parameters and assets into
   * its root file system `rootfs` on `node` (the edge, or the NFS server when
   * the rootfs is on the share). Runs on the controller: may prepare assets
   * (the video) in the local cache first.
   */
  install(node: SshConnection, rootfs: string, params: P, log: (line: string) => void): Promise<void>;
  readState(ip: string): Promise<StateReading>;
  /** Starts the workload's own client against the container, if it has one. */
  startClient?(ip: string, params: P, limits: { maxMs: number }): Promise<WorkloadClient>;
}

/** The state after a move went on from the state before it: undefined, or what is wrong. */
export function stateProblem(before: StateReading, after: StateReading): string | undefined {
  if (after.progress < before.progress) return `progress went back from ${before.progress} to ${after.progress}: the service restarted instead of resuming`;
  if (!after.intact) return `its memory check failed after the move (${after.text})`;
  return undefined;
}
