// Where each migration stands, kept durably on the controller so that a
// controller killed at any moment leaves enough behind for `followme
// recover`: one JSON file per unfinished migration, rewritten whole (write,
// fsync, rename, fsync the directory) at every step, removed once the
// migration is settled (migrated, or rolled back with the container running
// on the source). A file left behind is an unfinished migration.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import lockfile from 'proper-lockfile';
import { ConfigError, FollowmeError } from '../common/errors.js';
import { formatProblems, newAjv, schemaProblems } from '../common/input/ajv.js';
import { parseJsonInput } from '../common/input/json.js';
import { MAX_INPUT_BYTES, readRegularFile } from '../common/input/read.js';
import { testbedStateDir } from '../common/paths.js';
import { StrategyNameSchema } from './record/schema.js';

export const JournalEntrySchema = Type.Object(
  {
    journalVersion: Type.Literal(1),
    id: Type.String({ pattern: '^[A-Za-z0-9_.-]+$', maxLength: 200 }),
    strategy: StrategyNameSchema,
    testbed: Type.String(),
    container: Type.String(),
    from: Type.String(),
    to: Type.String(),
    predumps: Type.Integer({ minimum: 0 }),
    /** The container's LXC directory, the same on both edges. */
    lxcDir: Type.String(),
    /** The migration's image directory (on both edges, or on the share). */
    workDir: Type.String(),
    ports: Type.Object({ receiver: Type.Integer(), pageServer: Type.Integer() }, { additionalProperties: false }),
    /**
     * What was in progress: "connect" and "checks" (nothing made on an edge
     * yet), "set-up", a phase's name, "rollback", "source cleanup".
     */
    step: Type.String(),
    /** Set once the container runs on the destination (for pre-copy strategies: the restore finished). */
    pointOfNoReturnPassed: Type.Boolean(),
    /** Set when the migration ended unsettled (its rollback or source cleanup failed): what went wrong. */
    failure: Type.Optional(Type.String()),
    /** Set when a post-copy move lost the container's state in its lazy window: recover then removes what is left and never resumes a copy. */
    stateLost: Type.Optional(Type.String()),
    /** With stateLost: the edge that keeps the container, stopped, with its root file system. */
    stoppedOn: Type.Optional(Type.String({ maxLength: 64 })),
    startedAt: Type.String({ format: 'date-time' }),
    updatedAt: Type.String({ format: 'date-time' }),
  },
  { additionalProperties: false },
);
export type JournalEntry = Static<typeof JournalEntrySchema>;

/** Steps at which no edge holds anything of the migration yet. */
export const NOTHING_MADE_STEPS: readonly string[] = ['connect', 'checks'];

const check = newAjv().compile<JournalEntry>(JournalEntrySchema);

/** The journal of one testbed, beside its keys and inventory. */
export function journalDirFor(prefix: string): string {
  return join(testbedStateDir(prefix), 'journal');
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replaces `path` with `text` so that a crash leaves either the old or the new file, never a torn one. */
function writeDurably(path: string, text: string): void {
  const tmp = `${path}.partial`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/**
 * A live migration holds a lock on its entry, refreshed every few seconds:
 * recover leaves an entry alone until its lock goes stale (its controller died).
 */
export const ENTRY_LOCK_STALE_MS = 10_000;
const lockOptions = { realpath: false, stale: ENTRY_LOCK_STALE_MS };

/** Whether a live process still holds the entry of migration `id` (its lock is fresh). */
export function entryHeld(dir: string, id: string): boolean {
  return lockfile.checkSync(entryPath(dir, id), lockOptions);
}

/** The journal's step once the container runs on the destination for good: only the source's copy is left to remove. */
export const SOURCE_CLEANUP_STEP = 'source cleanup';

export class Journal {
  private release: (() => void) | undefined;

  private constructor(
    readonly dir: string,
    private entry: JournalEntry,
  ) {}

  /** Starts the journal of a migration: written before anything is made on an edge. */
  static open(dir: string, entry: Omit<JournalEntry, 'journalVersion' | 'updatedAt' | 'pointOfNoReturnPassed' | 'step'>): Journal {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const j = new Journal(dir, { journalVersion: 1, ...entry, step: 'connect', pointOfNoReturnPassed: false, updatedAt: entry.startedAt });
    j.write();
    fsyncDir(dir);
    // A lock that cannot be refreshed in time only means recover may judge the migration dead early: never crash for it.
    j.release = lockfile.lockSync(j.path, { ...lockOptions, update: ENTRY_LOCK_STALE_MS / 4, onCompromised: () => undefined });
    return j;
  }

  get current(): JournalEntry {
    return this.entry;
  }

  get path(): string {
    return entryPath(this.dir, this.entry.id);
  }

  update(patch: Partial<Pick<JournalEntry, 'step' | 'pointOfNoReturnPassed' | 'failure' | 'stateLost' | 'stoppedOn'>>): void {
    this.entry = { ...this.entry, ...patch, updatedAt: new Date().toISOString() };
    this.write();
  }

  /** The migration is settled: nothing is left for `recover`. */
  close(): void {
    settle(this.dir, this.entry.id);
    this.unlock();
  }

  /** The migration ends unsettled: the entry stays for recover, which may take it at once. */
  leave(): void {
    this.unlock();
  }

  private unlock(): void {
    const release = this.release;
    this.release = undefined;
    try {
      release?.();
    } catch {
      // Already released or compromised: nothing holds the entry either way.
    }
  }

  private write(): void {
    writeDurably(this.path, `${JSON.stringify(this.entry, null, 2)}\n`);
  }
}

function entryPath(dir: string, id: string): string {
  return join(dir, `${id}.json`);
}

/** Removes a settled migration's entry (recover, once it has settled one). */
export function settle(dir: string, id: string): void {
  rmSync(entryPath(dir, id), { force: true });
  // A killed controller's lock (proper-lockfile's directory beside the entry) goes with it, and a rewrite it died in.
  rmSync(`${entryPath(dir, id)}.lock`, { recursive: true, force: true });
  rmSync(`${entryPath(dir, id)}.partial`, { force: true });
  fsyncDir(dir);
}

/**
 * Every unfinished migration in a journal directory, oldest first. No
 * directory means no migration ever ran here; a directory that cannot be
 * read is an error naming it (exit 1), never "nothing to recover". A file
 * that is not an entry is an error naming it.
 */
export function unfinishedMigrations(dir: string): JournalEntry[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new FollowmeError(`cannot read the journal directory ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  const entries = names.map((n) => {
    const path = join(dir, n);
    const read = readRegularFile(path, MAX_INPUT_BYTES);
    if (!read.ok) {
      const why = read.why === 'unreadable' ? `cannot be read (${read.code})` : read.why === 'not-a-file' ? 'is not a regular file' : 'is too large';
      throw new FollowmeError(`journal ${path} ${why}; move it aside to go on`);
    }
    const data = parseJsonInput(read.bytes.toString('utf8'), `journal ${path}`, 'journal');
    if (!check(data)) throw new ConfigError(`journal ${path}: not a journal entry:\n${formatProblems(schemaProblems('entry', check.errors))}`, 'journal');
    return data;
  });
  return entries.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}
