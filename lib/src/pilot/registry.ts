import { randomBytes } from 'node:crypto';
import { mkdirSync, watch as watchDirectory, type FSWatcher } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import {
  formatProblem,
  pilotIdSchema,
  pilotRecordSchema,
  problemsFromIssues,
  type PilotRecord,
  type PilotState
} from '../protocol/index.js';
import { DamagedRecordError, PilotNotFoundError, RegistryWriteError } from './errors.js';
import { applyTransition } from './record.js';

const RECORD_SUFFIX = '.json';

/** proper-lockfile's options; lock() below retries a held lock itself. */
const LOCK_OPTIONS = { stale: 10_000, realpath: false, retries: 0 } as const;
/** Retries long enough for many writers queueing on one record, short steps to stay fast. */
const LOCK_RETRIES = 400;
const LOCK_RETRY_MIN_MS = 5;
const LOCK_RETRY_MAX_MS = 100;

/** Errors that say this user may not write there (a read-only registry). */
const NOT_WRITABLE = new Set(['EACCES', 'EPERM', 'EROFS']);

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

function isNotWritable(error: unknown): boolean {
  return error instanceof Error && NOT_WRITABLE.has((error as NodeJS.ErrnoException).code ?? '');
}

/**
 * A registry record read from `where` (a path, possibly on another host), checked against the
 * record schema; a DamagedRecordError names the file and what is wrong.
 */
export function parseRecord(id: string, text: string, where: string): PilotRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new DamagedRecordError(id, where, `not valid JSON (${(error as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new DamagedRecordError(
      id,
      where,
      `expected a JSON object, found ${JSON.stringify(value)?.slice(0, 40)}`
    );
  }
  const result = pilotRecordSchema.safeParse(value);
  if (!result.success) {
    const problems = problemsFromIssues(value, result.error.issues).map(formatProblem);
    throw new DamagedRecordError(id, where, problems.join('; '));
  }
  if (result.data.id !== id) {
    throw new DamagedRecordError(
      id,
      where,
      `it holds the record of ${result.data.id}, expected ${id} (the file's name)`
    );
  }
  // Checked above for what the tools rely on; the rest passes through as stored.
  return result.data as unknown as PilotRecord;
}

/**
 * Takes the lock of `path`, waiting while another writer holds it. Only a held lock is worth
 * waiting for (proper-lockfile would retry any error, e.g. a read-only directory, for long).
 */
async function acquire(
  path: string,
  onCompromised: (error: Error) => void
): Promise<() => Promise<void>> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await lockfile.lock(path, { ...LOCK_OPTIONS, onCompromised });
    } catch (error) {
      if (!isErrno(error, 'ELOCKED') || attempt >= LOCK_RETRIES) throw error;
      const step = Math.min(LOCK_RETRY_MAX_MS, LOCK_RETRY_MIN_MS * 1.5 ** attempt);
      await new Promise(resolve => setTimeout(resolve, step * (1 + Math.random())));
    }
  }
}

/**
 * Runs `action` holding the lock of `path` (another process or another call of this process
 * waits). `action` gets a check to call before it commits: it throws if the lock was lost
 * (e.g. this process stalled past the stale time and another writer took it over), so a lost
 * lock fails this operation instead of crashing the process from proper-lockfile's timer.
 */
async function withLock<T>(
  path: string,
  what: string,
  action: (stillHeld: () => void) => Promise<T>
): Promise<T> {
  let lost: Error | undefined;
  let release: () => Promise<void>;
  try {
    release = await acquire(path, error => {
      lost = error;
    });
  } catch (error) {
    if (isNotWritable(error)) throw new RegistryWriteError(what, `${path}.lock`, error);
    if (isErrno(error, 'ELOCKED')) {
      throw new Error(
        `Cannot ${what}: ${path} stays locked by another writer (${path}.lock); if no pilot tool is running, remove that directory`,
        { cause: error }
      );
    }
    throw error;
  }
  const stillHeld = (): void => {
    if (lost !== undefined) {
      throw new Error(`Cannot ${what}: the lock of ${path} was lost (${lost.message})`, {
        cause: lost
      });
    }
  };
  try {
    const result = await action(stillHeld);
    stillHeld();
    return result;
  } finally {
    // A lost lock is no longer ours to remove (another writer may hold it now).
    if (lost === undefined) await release();
  }
}

/**
 * The durable registry: one JSON file per pilot under <home>/registry. Every write goes to a
 * temporary file in the same directory and is renamed over the record, so readers never see a
 * torn file; read-modify-write runs under a per-record lock so several processes never lose an
 * update. Each write raises the record's revision.
 */
export class PilotRegistry {
  readonly home: string;
  readonly directory: string;

  constructor(home: string) {
    this.home = home;
    this.directory = join(home, 'registry');
  }

  /** Working directory of a pilot on the local machine (config, storage, logs). */
  workDirOf(id: string): string {
    return join(this.home, 'pilots', id);
  }

  private pathOf(id: string): string {
    // Ids become file names: anything else than the id pattern is no pilot (and no path trick).
    if (!pilotIdSchema.safeParse(id).success) throw new PilotNotFoundError(id, this.directory);
    return join(this.directory, `${id}${RECORD_SUFFIX}`);
  }

  async ensureDirectory(): Promise<void> {
    try {
      await mkdir(this.directory, { recursive: true, mode: 0o700 });
    } catch (error) {
      if (isNotWritable(error)) {
        throw new RegistryWriteError('create the pilot registry', this.directory, error);
      }
      throw error;
    }
  }

  /** Writes a new record; fails if one with this id exists. */
  async create(record: PilotRecord): Promise<void> {
    await this.ensureDirectory();
    // The record's own lock, as update() takes it. (proper-lockfile keeps one lock per path in a
    // process: a lock on the directory shared by concurrent creates would release the others'.)
    const path = this.pathOf(record.id);
    await withLock(path, `record pilot ${record.id}`, async stillHeld => {
      if (await this.exists(record.id))
        throw new Error(`A pilot with id ${record.id} exists already`);
      await this.writeAtomically(record, stillHeld);
    });
  }

  async exists(id: string): Promise<boolean> {
    try {
      await stat(this.pathOf(id));
      return true;
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return false;
      throw error;
    }
  }

  async read(id: string): Promise<PilotRecord> {
    let text: string;
    try {
      text = await readFile(this.pathOf(id), 'utf8');
    } catch (error) {
      if (isErrno(error, 'ENOENT')) throw new PilotNotFoundError(id, this.directory);
      throw error;
    }
    return this.parse(id, text);
  }

  /** The usable records, oldest first (see survey() for the damaged ones). */
  async list(): Promise<PilotRecord[]> {
    return (await this.survey()).records;
  }

  /**
   * All records, oldest first, and the files that hold no usable record (each with what is
   * wrong): one damaged file must not hide the other pilots.
   */
  async survey(): Promise<{ records: PilotRecord[]; damaged: DamagedRecordError[] }> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return { records: [], damaged: [] };
      throw error;
    }
    const records: PilotRecord[] = [];
    const damaged: DamagedRecordError[] = [];
    for (const name of names.sort()) {
      if (!name.endsWith(RECORD_SUFFIX) || name.startsWith('.')) continue;
      const id = name.slice(0, -RECORD_SUFFIX.length);
      if (!pilotIdSchema.safeParse(id).success) {
        const file = join(this.directory, name);
        damaged.push(new DamagedRecordError(id, file, 'its name is not a pilot id'));
        continue;
      }
      try {
        records.push(await this.read(id));
      } catch (error) {
        // Removed between readdir and read: it is simply no longer there.
        if (error instanceof PilotNotFoundError) continue;
        if (error instanceof DamagedRecordError) {
          damaged.push(error);
          continue;
        }
        throw error;
      }
    }
    records.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    return { records, damaged };
  }

  /**
   * Read-modify-write under the record's lock. `change` gets the current record and returns the
   * new one, or undefined to leave it as it is. Returns the record as stored afterwards.
   */
  async update(
    id: string,
    change: (record: PilotRecord) => PilotRecord | undefined
  ): Promise<PilotRecord> {
    const path = this.pathOf(id);
    // The lock would be retried on a missing record; find out first that there is none.
    if (!(await this.exists(id))) throw new PilotNotFoundError(id, this.directory);
    return withLock(path, `change the record of pilot ${id}`, async stillHeld => {
      const current = await this.read(id);
      const changed = change(structuredClone(current));
      if (changed === undefined) return current;
      const next: PilotRecord = {
        ...changed,
        id: current.id,
        revision: current.revision + 1,
        updatedAt: new Date().toISOString()
      };
      await this.writeAtomically(next, stillHeld);
      return next;
    });
  }

  /** A validated state transition (see applyTransition), with optional extra fields. */
  async transition(
    id: string,
    to: PilotState,
    options: { reason?: string; patch?: Partial<PilotRecord> } = {}
  ): Promise<PilotRecord> {
    return this.update(id, record =>
      applyTransition(
        { ...record, ...options.patch },
        to,
        options.reason !== undefined
          ? { reason: options.reason, now: new Date() }
          : { now: new Date() }
      )
    );
  }

  /**
   * Calls `onChange` soon after any file in the registry changes (any process). Events are
   * coalesced; callers compare revisions to find what changed.
   */
  watch(onChange: () => void): { close(): void } {
    let watcher: FSWatcher | undefined;
    let timer: NodeJS.Timeout | undefined;
    const fire = (): void => {
      if (timer !== undefined) return;
      timer = setTimeout(() => {
        timer = undefined;
        onChange();
      }, 30);
    };
    mkdirSync(this.directory, { recursive: true, mode: 0o700 });
    try {
      watcher = watchDirectory(this.directory, { persistent: false }, fire);
      watcher.on('error', error => {
        // The caller's poll keeps working without the watcher; say why it stopped.
        console.error(`pilot registry watch stopped: ${error.message}`);
        watcher?.close();
      });
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
      // No registry yet: the caller's slow poll sees records once the directory appears.
    }
    return {
      close() {
        watcher?.close();
        if (timer !== undefined) clearTimeout(timer);
      }
    };
  }

  private parse(id: string, text: string): PilotRecord {
    return parseRecord(id, text, this.pathOf(id));
  }

  /** Writes a temporary file and renames it over the record once `stillHeld` passes. */
  private async writeAtomically(record: PilotRecord, stillHeld: () => void): Promise<void> {
    const target = this.pathOf(record.id);
    const temporary = join(this.directory, `.${record.id}.${randomBytes(6).toString('hex')}.tmp`);
    let file;
    try {
      file = await open(temporary, 'wx', 0o600);
    } catch (error) {
      if (isNotWritable(error)) {
        throw new RegistryWriteError(`write the record of pilot ${record.id}`, temporary, error);
      }
      throw error;
    }
    try {
      try {
        await file.writeFile(`${JSON.stringify(record, null, 2)}\n`, 'utf8');
        await file.sync();
      } finally {
        await file.close();
      }
      stillHeld();
      await rename(temporary, target);
    } catch (error) {
      await unlink(temporary);
      throw error;
    }
  }
}
