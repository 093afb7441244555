import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The lib workspace and the repository root. */
export const libDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const repoDir = resolve(libDir, '..');

/** Kafka download cache shared by all tests: $PILOT_STREAMING_CACHE, else <repo>/.cache. */
export function testCacheDir(): string {
  const fromEnv = process.env.PILOT_STREAMING_CACHE;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(repoDir, '.cache');
}

/** A module of the compiled library, for child processes (plain Node runs no TypeScript). */
export function distModule(relative: string): string {
  const path = join(libDir, 'dist', relative);
  if (!existsSync(path))
    throw new Error(`${path} is missing: build the library first (npx tsc -b)`);
  return path;
}

/** The project's shared reference data (tooth.h5, TomoPy's fixtures), kept beside the clone. */
export const sharedDataDir = resolve(repoDir, '..', 'shared', 'data');
export const tomopyReferenceDir = join(sharedDataDir, 'tomopy-reference');
