import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, open, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { UNIT_ID_PATTERN, type UnitError, type UnitRecord } from '../protocol/index.js';

/** What a finished function unit produced, kept beside its record. */
export type FunctionOutcome = { ok: true; value: unknown } | { ok: false; error: UnitError };

const METRICS_HEADER = 'unit_id,node,kind,cores,state,submitted,started,finished,duration_s\n';

function isErrno(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code;
}

/** How a unit store reads: this machine's file system, or a resource's over SFTP. */
export interface UnitFiles {
  /** Rejects with code ENOENT for a missing file. */
  readFile(path: string): Promise<Buffer>;
  readdir(path: string): Promise<string[]>;
}

const LOCAL_FILES: UnitFiles = { readFile: path => readFile(path), readdir: path => readdir(path) };

/**
 * Compute units of one pilot on disk, in the pilot's work dir: units/<id>/unit.json (record,
 * written atomically), result.bin (a function's value or error), stdout, stderr; and
 * metrics.csv, one line per finished unit. The agent writes; any process reads, through `files`
 * (over SFTP for a pilot on a resource reached over ssh).
 */
export class UnitStore {
  readonly directory: string;
  readonly metricsPath: string;

  constructor(
    readonly workDir: string,
    private readonly files: UnitFiles = LOCAL_FILES
  ) {
    this.directory = join(workDir, 'units');
    this.metricsPath = join(workDir, 'metrics.csv');
  }

  dirOf(id: string): string {
    // Ids become paths: only the id pattern is accepted.
    if (!UNIT_ID_PATTERN.test(id)) throw new Error(`Not a compute unit id: ${JSON.stringify(id)}`);
    return join(this.directory, id);
  }

  outputPath(id: string, stream: 'stdout' | 'stderr'): string {
    return join(this.dirOf(id), stream);
  }

  async create(record: UnitRecord): Promise<void> {
    await mkdir(this.dirOf(record.id), { recursive: true, mode: 0o700 });
    await this.write(record);
  }

  async write(record: UnitRecord): Promise<void> {
    const dir = this.dirOf(record.id);
    const temporary = join(dir, `.unit.${randomBytes(6).toString('hex')}.tmp`);
    await writeFile(temporary, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
    await rename(temporary, join(dir, 'unit.json'));
  }

  async read(id: string): Promise<UnitRecord | undefined> {
    try {
      const text = (await this.files.readFile(join(this.dirOf(id), 'unit.json'))).toString('utf8');
      return JSON.parse(text) as UnitRecord;
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return undefined;
      throw error;
    }
  }

  /** All records, in submission order. */
  async list(): Promise<UnitRecord[]> {
    let names: string[];
    try {
      names = await this.files.readdir(this.directory);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return [];
      throw error;
    }
    const records: UnitRecord[] = [];
    for (const name of names) {
      if (!UNIT_ID_PATTERN.test(name)) continue;
      const record = await this.read(name);
      if (record !== undefined) records.push(record);
    }
    return records.sort(
      (a, b) => a.submittedAt.localeCompare(b.submittedAt) || a.id.localeCompare(b.id)
    );
  }

  async writeOutcome(id: string, outcome: FunctionOutcome): Promise<void> {
    await writeFile(join(this.dirOf(id), 'result.bin'), serialize(outcome), { mode: 0o600 });
  }

  async readOutcome(id: string): Promise<FunctionOutcome | undefined> {
    try {
      return deserialize(
        await this.files.readFile(join(this.dirOf(id), 'result.bin'))
      ) as FunctionOutcome;
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return undefined;
      throw error;
    }
  }

  async readOutput(id: string, stream: 'stdout' | 'stderr'): Promise<string> {
    try {
      return (await this.files.readFile(this.outputPath(id, stream))).toString('utf8');
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return '';
      throw error;
    }
  }

  /** One CSV line per finished unit (like pilot-quantum's metrics.csv); header on first use. */
  async appendMetrics(record: UnitRecord): Promise<void> {
    try {
      const file = await open(this.metricsPath, 'wx', 0o600);
      await file.writeFile(METRICS_HEADER);
      await file.close();
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) throw error;
    }
    const started = record.startedAt ?? '';
    const finished = record.finishedAt ?? '';
    const duration =
      started !== '' && finished !== ''
        ? ((Date.parse(finished) - Date.parse(started)) / 1000).toFixed(3)
        : '';
    const line = [
      record.id,
      record.node,
      record.kind,
      record.cores,
      record.state,
      record.submittedAt,
      started,
      finished,
      duration
    ].join(',');
    await appendFile(this.metricsPath, `${line}\n`);
  }
}
