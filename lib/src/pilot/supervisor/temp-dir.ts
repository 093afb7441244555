import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** The pilot's temporary directory, relative to its work directory. */
export const PILOT_TEMP_DIR = 'tmp';

/**
 * Gives the supervisor, and through its environment every process it starts on any node (srun
 * passes the environment on), a temporary directory of the pilot's own: nothing of a pilot is
 * left in a shared /tmp, and what it leaves goes with it. A directory left by a supervisor that
 * was killed is emptied first.
 */
export async function enterPilotTempDir(workDir: string): Promise<{ remove(): Promise<void> }> {
  const path = join(workDir, PILOT_TEMP_DIR);
  await rm(path, { recursive: true, force: true });
  await mkdir(path, { recursive: true, mode: 0o700 });
  process.env.TMPDIR = path;
  return { remove: () => rm(path, { recursive: true, force: true }) };
}
