import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import lockfile from 'proper-lockfile';
import type { ProgressListener } from './plugin.js';

/**
 * Makes `dir` once, for every process that asks at the same time: `fill` builds it in a fresh
 * staging directory beside it, which is then renamed into place, so that `dir` exists only
 * complete. A lock beside it makes concurrent callers wait for one builder; `isComplete` says
 * whether an existing `dir` can be used as it is.
 */
export async function ensureCachedDirectory(options: {
  dir: string;
  /** e.g. "the Dask 2026.8.0 wheels", for progress and errors. */
  what: string;
  isComplete: (dir: string) => Promise<boolean>;
  fill: (staging: string) => Promise<void>;
  onProgress: ProgressListener;
  /** How long another process's build may take before waiting gives up. */
  waitMs: number;
}): Promise<void> {
  const { dir, what, onProgress } = options;
  if (await options.isComplete(dir)) return;
  const parent = dirname(dir);
  await mkdir(parent, { recursive: true });
  const lockOptions = {
    lockfilePath: join(parent, `.${basename(dir)}.lock`),
    realpath: false,
    stale: 20_000
  };
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(parent, lockOptions);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    onProgress({ stage: `Waiting for another process making ${what}` });
    release = await lockfile.lock(parent, {
      ...lockOptions,
      retries: { retries: Math.ceil(options.waitMs / 1000), minTimeout: 1000, maxTimeout: 1000 }
    });
  }
  try {
    if (await options.isComplete(dir)) return;
    const staging = join(parent, `.staging-${basename(dir)}-${randomBytes(4).toString('hex')}`);
    try {
      await mkdir(staging, { recursive: true });
      await options.fill(staging);
      await rm(dir, { recursive: true, force: true });
      await rename(staging, dir);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
    if (!(await options.isComplete(dir))) throw new Error(`${what} in ${dir} is incomplete`);
  } finally {
    await release();
  }
}
