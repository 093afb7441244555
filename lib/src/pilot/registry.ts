import { randomBytes } from 'node:crypto';
import { mkdirSync, watch as watchDirectory, type FSWatcher } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { pilotIdSchema, type PilotRecord, type PilotState } from '../protocol/index.js';
import { PilotNotFoundError } from './errors.js';
import { applyTransition } from './record.js';

const RECORD_SUFFIX = '.json';

/** Retries long enough for many writers queueing on one record, short steps to stay fast. */
const LOCK_OPTIONS = {
  stale: 10_000,
  realpath: false,
  retries: { retries: 400, minTimeout: 5, maxTimeout: 100, randomize: true }
} as const;

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

/** A registry record read from `where` (a path, possibly on another host), checked for its format. */
export function parseRecord(id: string, text: string, where: string): PilotRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `The registry record of ${id} (${where}) is not valid JSON: ${(error as Error).message}`,
      { cause: error }
    );
  }
  const record = value as PilotRecord;
  if (record === null || typeof record !== 'object' || record.format !== 1 || record.id !== id) {
    throw new Error(
      `The registry record of ${id} (${where}) has an unknown format; expected format 1 with id ${id}`
    );
  }
  return record;
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
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
  }

  /** Writes a new record; fails if one with this id exists. */
  async create(record: PilotRecord): Promise<void> {
    await this.ensureDirectory();
    const release = await lockfile.lock(this.directory, {
      ...LOCK_OPTIONS,
      lockfilePath: join(this.directory, `.${record.id}.create.lock`)
    });
    try {
      if (await this.exists(record.id))
        throw new Error(`A pilot with id ${record.id} exists already`);
      await this.writeAtomically(record);
    } finally {
      await release();
    }
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

  /** All records, oldest first. */
  async list(): Promise<PilotRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return [];
      throw error;
    }
    const records: PilotRecord[] = [];
    for (const name of names) {
      if (!name.endsWith(RECORD_SUFFIX) || name.startsWith('.')) continue;
      const id = name.slice(0, -RECORD_SUFFIX.length);
      try {
        records.push(await this.read(id));
      } catch (error) {
        // Removed between readdir and read: it is simply no longer there.
        if (error instanceof PilotNotFoundError) continue;
        throw error;
      }
    }
    return records.sort(
      (a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id)
    );
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
    const release = await lockfile.lock(path, LOCK_OPTIONS);
    try {
      const current = await this.read(id);
      const changed = change(structuredClone(current));
      if (changed === undefined) return current;
      const next: PilotRecord = {
        ...changed,
        id: current.id,
        revision: current.revision + 1,
        updatedAt: new Date().toISOString()
      };
      await this.writeAtomically(next);
      return next;
    } finally {
      await release();
    }
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

  private async writeAtomically(record: PilotRecord): Promise<void> {
    const target = this.pathOf(record.id);
    const temporary = join(this.directory, `.${record.id}.${randomBytes(6).toString('hex')}.tmp`);
    const file = await open(temporary, 'wx', 0o600);
    try {
      await file.writeFile(`${JSON.stringify(record, null, 2)}\n`, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    try {
      await rename(temporary, target);
    } catch (error) {
      await unlink(temporary);
      throw error;
    }
  }
}
