import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackendName, GatewaySide } from '../s2ds/data-plane.js';

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

  async loadAll(): Promise<SessionRecord[]> {
    const records: SessionRecord[] = [];
    for (const name of await readdir(this.dir)) {
      const path = join(this.dir, name);
      // Leftover temporary files are from a write interrupted before its rename.
      if (name.endsWith('.tmp')) {
        await rm(path, { force: true });
        continue;
      }
      if (!name.endsWith('.json')) continue;
      const record = JSON.parse(await readFile(path, 'utf8')) as SessionRecord;
      if (record.version !== 1) {
        throw new Error(`session file ${path}: version ${String(record.version)}, expected 1`);
      }
      records.push(record);
    }
    return records;
  }
}
