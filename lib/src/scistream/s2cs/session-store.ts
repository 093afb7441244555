import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { BACKENDS, type BackendName, type GatewaySide } from '../s2ds/data-plane.js';

export type SessionState = 'waiting-hello' | 'reserved' | 'streaming';

/** What survives an S2CS restart: everything needed to bring a session's data plane back. */
export interface SessionRecord {
  version: 1;
  uid: string;
  role: 'PROD' | 'CONS';
  side: GatewaySide;
  owner: string;
  numConn: number;
  rate: number;
  backend: BackendName;
  state: SessionState;
  ports: number[];
  /** Where the channels go: producer listeners (PROD) or producer-gateway listeners (CONS). */
  targets: string[];
  prodListeners: string[];
  /** Per-session data-channel key, hex; the state directory is private (0700, files 0600). */
  psk: string;
  /** Subprocess backends' pids, so a restarted S2CS can stop orphans. */
  pids: number[];
  createdMs: number;
}

const UID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const port = z.number().int().min(1).max(65535);
const sessionRecordSchema = z.object({
  version: z.literal(1),
  uid: z.string().regex(UID_PATTERN),
  role: z.enum(['PROD', 'CONS']),
  side: z.enum(['producer', 'consumer']),
  owner: z.string(),
  numConn: z.number().int().min(1),
  rate: z.number().min(0),
  backend: z.enum(BACKENDS),
  state: z.enum(['waiting-hello', 'reserved', 'streaming']),
  ports: z.array(port),
  targets: z.array(z.string()),
  prodListeners: z.array(z.string()),
  psk: z.string().regex(/^[0-9a-f]+$/),
  pids: z.array(z.number().int().min(1)),
  createdMs: z.number()
}) satisfies z.ZodType<SessionRecord>;

/** A session file that could not be read back; it was moved aside to `keptAs`. */
export interface DamagedSession {
  path: string;
  keptAs: string;
  problem: string;
}

export function validateUid(uid: string): string {
  if (!UID_PATTERN.test(uid)) {
    throw new Error(
      `uid: "${uid.slice(0, 64)}" is not a session id; expected 1-128 letters, digits, ".", "_" or "-"`
    );
  }
  return uid;
}

/**
 * Sessions on disk, one JSON file each, written atomically (temporary file, fsync, rename) so a
 * crash leaves either the old or the new record, never half of one.
 */
export class SessionStore {
  private readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'sessions');
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  private file(uid: string): string {
    return join(this.dir, `${validateUid(uid)}.json`);
  }

  async save(record: SessionRecord): Promise<void> {
    const target = this.file(record.uid);
    const temporary = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(JSON.stringify(record));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
  }

  async remove(uid: string): Promise<void> {
    await rm(this.file(uid), { force: true });
  }

  /**
   * Every session on disk. A file that cannot be read back as a session (truncated, edited, of
   * another version) must not keep the gateway from serving the others: it is moved aside to
   * `<file>.damaged`, kept for inspection, and reported.
   */
  async loadAll(): Promise<{ records: SessionRecord[]; damaged: DamagedSession[] }> {
    const records: SessionRecord[] = [];
    const damaged: DamagedSession[] = [];
    for (const name of await readdir(this.dir)) {
      const path = join(this.dir, name);
      // Leftover temporary files are from a write interrupted before its rename.
      if (name.endsWith('.tmp')) {
        await rm(path, { force: true });
        continue;
      }
      if (!name.endsWith('.json')) continue;
      const problem = sessionProblem(await readFile(path, 'utf8'), name.slice(0, -'.json'.length));
      if (typeof problem === 'string') {
        const keptAs = `${path}.damaged`;
        await rename(path, keptAs);
        damaged.push({ path, keptAs, problem });
        continue;
      }
      records.push(problem.record);
    }
    return { records, damaged };
  }
}

/** The record in a session file's text, or what is wrong with it. */
function sessionProblem(text: string, uid: string): string | { record: SessionRecord } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `not JSON (${(error as Error).message})`;
  }
  const result = sessionRecordSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    return `${issue.path.join('.') || 'the record'}: ${issue.message}`;
  }
  if (result.data.uid !== uid) return `uid "${result.data.uid}" does not match the file name`;
  return { record: result.data };
}
