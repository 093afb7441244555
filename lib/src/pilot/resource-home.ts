import { posix } from 'node:path';
import type { PilotRecord } from '../protocol/index.js';
import { CommandError, type RemoteConnection } from '../remote/index.js';
import { parseRecord } from './registry.js';

/**
 * The pilot home on a resource reached over ssh (ssh://, slurm+ssh://). The pilot's supervisor
 * runs there with PILOT_STREAMING_HOME set to it and keeps the pilot's record in
 * <home>/registry/<id>.json and its files in <home>/pilots/<id>; the client writes the first
 * record before the launch and then mirrors the supervisor's writes over SFTP.
 */
export class ResourceHome {
  private constructor(
    readonly connection: RemoteConnection,
    readonly path: string
  ) {}

  /** `configured` (an absolute path on the resource), else ~/.pilot-streaming there. */
  static async open(connection: RemoteConnection, configured?: string): Promise<ResourceHome> {
    if (configured !== undefined) {
      if (!posix.isAbsolute(configured)) {
        throw new Error(
          `The pilot home on ${connection.label} is ${JSON.stringify(configured)}: expected an absolute path (PILOT_STREAMING_REMOTE_HOME)`
        );
      }
      return new ResourceHome(connection, configured);
    }
    const home = (await connection.check(['sh', '-c', 'printf %s "$HOME"'])).trim();
    if (!posix.isAbsolute(home)) {
      throw new Error(
        `$HOME on ${connection.label} is ${JSON.stringify(home)}: set PILOT_STREAMING_REMOTE_HOME to an absolute path for pilots there`
      );
    }
    return new ResourceHome(connection, posix.join(home, '.pilot-streaming'));
  }

  static at(connection: RemoteConnection, path: string): ResourceHome {
    return new ResourceHome(connection, path);
  }

  workDirOf(id: string): string {
    return posix.join(this.path, 'pilots', id);
  }

  private recordPath(id: string): string {
    return posix.join(this.path, 'registry', `${id}.json`);
  }

  /** Writes the record the supervisor starts from (before the launch; nothing else writes yet). */
  async create(record: PilotRecord): Promise<void> {
    await this.connection.mkdir(posix.join(this.path, 'registry'), { mode: 0o700 });
    await this.connection.mkdir(this.workDirOf(record.id), { mode: 0o700 });
    // The resource's copy knows nothing of the client's bookkeeping.
    const copy: PilotRecord = { ...record };
    delete copy.resourceHome;
    delete copy.mirroredRevision;
    await this.connection.writeFile(
      this.recordPath(record.id),
      `${JSON.stringify(copy, null, 2)}\n`,
      { mode: 0o600 }
    );
  }

  /** The supervisor's copy of the record. */
  async read(id: string): Promise<PilotRecord> {
    const path = this.recordPath(id);
    let text: string;
    try {
      text = (await this.connection.readFile(path)).toString('utf8');
    } catch (error) {
      if (error instanceof CommandError) throw error;
      throw new Error(
        `Cannot read the record of ${id} on ${this.connection.label} (${path}): ${(error as Error).message}`,
        { cause: error }
      );
    }
    return parseRecord(id, text, `${this.connection.label}:${path}`);
  }
}

/**
 * The local record updated with what the supervisor recorded on the resource since the last
 * mirror (state, history, progress, details, agents, start time), or undefined when there is
 * nothing new. A supervisor that has not started yet (its copy still New) changes nothing.
 */
export function mirrored(local: PilotRecord, remote: PilotRecord): PilotRecord | undefined {
  if (remote.revision <= (local.mirroredRevision ?? 0) || remote.state === 'New') return undefined;
  const next: PilotRecord = {
    ...local,
    state: remote.state,
    history: remote.history,
    mirroredRevision: remote.revision
  };
  for (const key of ['reason', 'progress', 'details', 'agents', 'startedAt'] as const) {
    if (remote[key] === undefined) delete next[key];
    else (next as unknown as Record<string, unknown>)[key] = remote[key];
  }
  return next;
}
