import { mkdtemp, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { enterPilotTempDir, PILOT_TEMP_DIR } from '../../../src/pilot/supervisor/temp-dir.js';

describe("a pilot's own temporary directory", () => {
  let workDir: string | undefined;
  afterEach(async () => {
    vi.unstubAllEnvs();
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  });

  it('is private, starts empty, becomes TMPDIR and goes with the pilot', async () => {
    vi.stubEnv('TMPDIR', tmpdir());
    workDir = await mkdtemp(join(tmpdir(), 'pilot-temp-'));
    const path = join(workDir, PILOT_TEMP_DIR);
    // What a killed supervisor left is not handed to the next one.
    await mkdir(path);
    await writeFile(join(path, 'stale'), 'x');

    const entered = await enterPilotTempDir(workDir);
    expect(process.env.TMPDIR).toBe(path);
    expect(tmpdir()).toBe(path);
    expect((await stat(path)).mode & 0o777).toBe(0o700);
    expect(await readdir(path)).toEqual([]);

    await writeFile(join(path, 'scratch'), 'y');
    await entered.remove();
    expect(await readdir(workDir)).toEqual([]);
  });
});
