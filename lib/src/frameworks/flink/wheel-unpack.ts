import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';

/** The Unix file type bits of a zip entry's external attributes. */
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

/**
 * Where an entry of the archive goes under the destination (a relative POSIX path), or
 * undefined to leave it out.
 */
export type EntryTarget = (entryName: string) => string | undefined;

/** A relative path that stays inside its directory (no "..", not absolute, no empty parts). */
function isContained(path: string): boolean {
  const parts = path.split('/');
  return !path.startsWith('/') && parts.every(part => part !== '' && part !== '.' && part !== '..');
}

/**
 * Writes the entries of the zip archive (a wheel) that `target` places under `dir`, keeping
 * their permission bits (a wheel's scripts are executable); returns the relative paths written.
 */
export function unpackWheel(archive: string, dir: string, target: EntryTarget): Promise<string[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(archive, { lazyEntries: true }, (error, zip) => {
      if (error) {
        reject(new Error(`Cannot open ${archive}: ${error.message}`, { cause: error }));
        return;
      }
      const written: string[] = [];
      const fail = (problem: Error): void => {
        zip.close();
        reject(problem);
      };
      zip.on('error', fail);
      zip.on('end', () => resolve(written));
      zip.on('entry', (entry: yauzl.Entry) => {
        const relative = entry.fileName.endsWith('/') ? undefined : target(entry.fileName);
        if (relative === undefined) {
          zip.readEntry();
          return;
        }
        const unixMode = entry.externalFileAttributes >>> 16;
        const type = unixMode & S_IFMT;
        if (!isContained(relative) || (type !== 0 && type !== S_IFREG)) {
          fail(
            new Error(
              `${archive} holds ${entry.fileName}, which is not a plain file inside the archive's directory: refused`
            )
          );
          return;
        }
        // Archives made without Unix attributes get plain read-write files.
        const mode = (unixMode & 0o777) !== 0 ? (unixMode & 0o755) | 0o600 : 0o644;
        const path = join(dir, ...relative.split('/'));
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError) {
            fail(streamError);
            return;
          }
          mkdir(dirname(path), { recursive: true })
            .then(() => pipeline(stream, createWriteStream(path, { mode })))
            .then(() => {
              written.push(relative);
              zip.readEntry();
            }, fail);
        });
      });
      zip.readEntry();
    });
  });
}
