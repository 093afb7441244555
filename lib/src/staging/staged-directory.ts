import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { posix } from 'node:path';
import type { ProgressListener } from '../frameworks/index.js';
import { shellQuote, type RemoteConnection } from '../remote/index.js';

export interface StagedFile {
  /** The file on this machine. */
  local: string;
  /** Its path in the staged directory (posix, relative). */
  name: string;
}

export interface DirectoryToStage {
  /** What it is, for progress and errors, e.g. "Node.js 20.20.2". */
  what: string;
  /** The directory on the resource (absolute). */
  remoteDir: string;
  files: StagedFile[];
  /**
   * Written last, so a directory without it is unfinished; a directory whose marker `matches`
   * is reused as it is.
   */
  marker: { name: string; content: string; matches?: (existing: string) => boolean };
  /** A sh command run in the new directory once its checksums hold (e.g. unpacking). */
  unpack?: string;
}

const MEGABYTE = 1024 * 1024;

export async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function readMarker(connection: RemoteConnection, path: string): Promise<string | undefined> {
  try {
    return (await connection.readFile(path)).toString('utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Makes `directory` exist on the resource with exactly its files: reused when its marker
 * matches, else uploaded over SFTP into a fresh directory beside it, checked there with
 * sha256sum, unpacked, marked and moved into place. Resolves with the bytes sent (0 when reused).
 */
export async function stageDirectory(
  connection: RemoteConnection,
  directory: DirectoryToStage,
  onProgress: ProgressListener
): Promise<{ bytesSent: number }> {
  const { what, remoteDir, marker } = directory;
  const markerPath = posix.join(remoteDir, marker.name);
  const matches = marker.matches ?? ((existing: string): boolean => existing === marker.content);
  const existing = await readMarker(connection, markerPath);
  if (existing !== undefined) {
    if (matches(existing)) return { bytesSent: 0 };
    throw new Error(
      `${connection.label} already has a different ${what} in ${remoteDir} (its ${marker.name} differs from this client's); remove that directory or point PILOT_STREAMING_REMOTE_CACHE at another cache`
    );
  }

  const sizes = await Promise.all(directory.files.map(async file => (await stat(file.local)).size));
  const total = sizes.reduce((sum, size) => sum + size, 0);
  const sums = await Promise.all(directory.files.map(file => sha256Of(file.local)));
  await removeAbandonedStagings(connection, remoteDir);
  const temporary = `${remoteDir}.staging-${randomBytes(6).toString('hex')}`;
  let reported = -MEGABYTE;
  // Every megabyte: SFTP reports each 32 KB request.
  const report = (sent: number): void => {
    if (sent - reported < MEGABYTE && sent < total) return;
    reported = sent;
    onProgress({
      stage: `Staging ${what} to ${connection.label}: ${(sent / MEGABYTE).toFixed(1)} of ${(total / MEGABYTE).toFixed(1)} MB`,
      fraction: total > 0 ? sent / total : 1
    });
  };
  let failure: unknown;
  try {
    const folders = new Set(directory.files.map(file => posix.dirname(file.name)));
    for (const folder of folders) await connection.mkdir(posix.join(temporary, folder));
    let done = 0;
    report(0);
    for (const [index, file] of directory.files.entries()) {
      await connection.upload(file.local, posix.join(temporary, file.name), {
        mode: 0o700,
        onBytes: sent => report(done + sent)
      });
      done += sizes[index]!;
    }
    const list = directory.files.map((file, index) => `${sums[index]!}  ${file.name}\n`).join('');
    await connection.writeFile(posix.join(temporary, 'SHA256SUMS'), list);
    onProgress({ stage: `Checking ${what} on ${connection.label} (sha256)`, fraction: 1 });
    const checked = await connection.execShell(
      `cd ${shellQuote(temporary)} && sha256sum --check --quiet SHA256SUMS`
    );
    if (checked.code !== 0) {
      throw new Error(
        `${what} arrived damaged on ${connection.label}: ${(checked.stdout + checked.stderr).trim()}`
      );
    }
    if (directory.unpack !== undefined) {
      const unpacked = await connection.execShell(
        `cd ${shellQuote(temporary)} && ${directory.unpack}`
      );
      if (unpacked.code !== 0) {
        throw new Error(
          `Cannot unpack ${what} on ${connection.label} (${directory.unpack}): ${unpacked.stderr.trim() || `exit code ${String(unpacked.code)}`}`
        );
      }
    }
    await connection.writeFile(posix.join(temporary, marker.name), marker.content);
    await moveIntoPlace(connection, temporary, remoteDir, markerPath);
  } catch (error) {
    failure = error;
  }
  // Nothing is left behind (it is gone already when it was moved into place).
  const removed = await connection.exec(['rm', '-rf', temporary]);
  if (removed.code !== 0) {
    const problem = `cannot remove ${temporary} on ${connection.label}: ${removed.stderr.trim()}`;
    if (!(failure instanceof Error)) throw new Error(`Staging ${what}: ${problem}`);
    failure.message += ` (and ${problem})`;
  }
  if (failure !== undefined) throw failure;
  const finalMarker = await readMarker(connection, markerPath);
  if (finalMarker === undefined || !matches(finalMarker)) {
    throw new Error(`${what} is not complete in ${remoteDir} on ${connection.label} after staging`);
  }
  return { bytesSent: total };
}

/** A day: no staging takes that long, so an older one was abandoned (its client killed). */
const ABANDONED_AFTER_MINUTES = 24 * 60;

/** Removes what stagings of `remoteDir` that were cut off left beside it. */
async function removeAbandonedStagings(
  connection: RemoteConnection,
  remoteDir: string
): Promise<void> {
  const parent = posix.dirname(remoteDir);
  const pattern = `${posix.basename(remoteDir)}.staging-*`;
  const removed = await connection.exec([
    'find',
    parent,
    '-mindepth',
    '1',
    '-maxdepth',
    '1',
    '-name',
    pattern,
    '-mmin',
    `+${ABANDONED_AFTER_MINUTES}`,
    '-exec',
    'rm',
    '-rf',
    '{}',
    '+'
  ]);
  // A cache that does not exist yet has nothing to remove.
  if (removed.code !== 0 && !/No such file/.test(removed.stderr)) {
    throw new Error(
      `Cannot remove abandoned stagings in ${parent} on ${connection.label}: ${removed.stderr.trim()}`
    );
  }
}

/**
 * Renames the finished directory into place. An unfinished one (no marker: an interrupted
 * staging) is replaced; when another client finished first, its directory stays and ours goes.
 */
async function moveIntoPlace(
  connection: RemoteConnection,
  temporary: string,
  remoteDir: string,
  markerPath: string
): Promise<void> {
  const [from, to, done] = [temporary, remoteDir, markerPath].map(shellQuote);
  const moved = await connection.execShell(
    `if [ -e ${done} ]; then exit 0; fi; rm -rf ${to} && mkdir -p "$(dirname ${to})" && mv ${from} ${to}`
  );
  if (moved.code !== 0) {
    throw new Error(
      `Cannot move ${temporary} to ${remoteDir} on ${connection.label}: ${moved.stderr.trim()}`
    );
  }
}
