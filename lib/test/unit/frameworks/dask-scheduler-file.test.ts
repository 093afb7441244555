import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  parseSchedulerFile,
  waitForSchedulerFile
} from '../../../src/frameworks/dask/scheduler-file.js';

// The shape Dask's Scheduler.identity() writes (distributed 2026.8), trimmed.
const WRITTEN = JSON.stringify({
  type: 'Scheduler',
  id: 'Scheduler-1',
  address: 'tls://127.0.0.1:40123',
  services: { dashboard: 40999 },
  started: 1.0,
  workers: {}
});

describe('Dask scheduler file', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map(dir => rm(dir, { recursive: true, force: true })));
  });

  it('gives the comm address and the HTTP port the scheduler bound', () => {
    expect(parseSchedulerFile(WRITTEN)).toEqual({
      address: 'tls://127.0.0.1:40123',
      dashboardPort: 40999
    });
  });

  it('is not there yet while missing, half written or without its HTTP server', () => {
    expect(parseSchedulerFile('')).toBeUndefined();
    expect(parseSchedulerFile(WRITTEN.slice(0, 40))).toBeUndefined();
    expect(parseSchedulerFile(JSON.stringify({ address: 'tls://h:1', services: {} }))).toBe(
      undefined
    );
  });

  it('is waited for until written, and a wait gives up naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'scheduler-file-'));
    dirs.push(dir);
    const path = join(dir, 'scheduler.json');
    const signal = new AbortController().signal;
    const waiting = waitForSchedulerFile(path, { timeoutMs: 5000, signal });
    await writeFile(path, WRITTEN.slice(0, 30));
    setTimeout(() => void writeFile(path, WRITTEN), 300);
    await expect(waiting).resolves.toEqual({
      address: 'tls://127.0.0.1:40123',
      dashboardPort: 40999
    });
    await expect(
      waitForSchedulerFile(join(dir, 'never.json'), { timeoutMs: 200, signal })
    ).rejects.toThrow(/wrote no scheduler file \(.*never\.json\) within 0 s/);
  });
});
