import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PilotRegistry } from '../../../src/pilot/registry.js';
import type { JobHandle, PilotState } from '../../../src/protocol/index.js';
import { sessionMembers } from '../../../src/resource/fork/processes.js';
import { distModule } from '../../support/paths.js';
import { processesMentioning, usePilotTestHome } from '../../support/pilot-home.js';

const PROCESSES = 3;
const PILOTS_PER_PROCESS = 8;
/** Small heaps for the client processes: 24 pilots' processes share a machine. */
const CLIENT_HEAP_MB = 96;
/** 24 pilots start on a couple of cores: minutes, not seconds. */
const RUNNING_TIMEOUT_MS = 900_000;
/**
 * Dask pilots: this test is about the registry, the supervisors and the cancels under
 * concurrency, not about a framework, and a Dask pilot takes a few CPU seconds to start where a
 * Kafka broker's JVM takes 7 or more (24 brokers kept 2 cores busy for nearly 3 minutes).
 */
const STRESS_PILOT = { type: 'dask', resource: 'fork://localhost', walltimeMinutes: 30 };

interface ChildReport {
  pilots: { id: string; job?: JobHandle; states: PilotState[] }[];
  failures: string[];
}

/** Runs one stress child to its end; its report, with its exit code and stderr. */
function runStressChild(
  home: string,
  cacheDir: string
): Promise<{ code: number | null; report?: ChildReport; stderr: string }> {
  const script = join(import.meta.dirname, '..', '..', 'support', 'pilot-stress-child.mjs');
  const args = [
    `--max-old-space-size=${CLIENT_HEAP_MB}`,
    script,
    distModule('pilot/index.js'),
    home,
    cacheDir,
    String(PILOTS_PER_PROCESS),
    JSON.stringify(STRESS_PILOT),
    String(RUNNING_TIMEOUT_MS)
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', code => {
      const line = stdout.trim().split('\n').pop();
      resolve({
        code,
        stderr,
        ...(line !== undefined && line.startsWith('{')
          ? { report: JSON.parse(line) as ChildReport }
          : {})
      });
    });
  });
}

describe('pilots under concurrency', () => {
  const test = usePilotTestHome('test');

  it(
    `${PROCESSES} processes each create and cancel ${PILOTS_PER_PROCESS} fork:// pilots at once`,
    async () => {
      const started = Date.now();
      const children = await Promise.all(
        Array.from({ length: PROCESSES }, () => runStressChild(test.home, test.cacheDir))
      );
      console.log(`stress: ${PROCESSES * PILOTS_PER_PROCESS} pilots in ${Date.now() - started} ms`);

      for (const child of children) {
        // No crash (an uncaught lock error would kill the child) and no failed operation.
        expect(child.report?.failures ?? child.stderr).toEqual([]);
        expect(child.code).toBe(0);
        expect(child.report!.pilots).toHaveLength(PILOTS_PER_PROCESS);
        for (const pilot of child.report!.pilots) {
          expect(pilot.states).toEqual(['New', 'Pending', 'Running', 'Canceled']);
        }
      }

      // Exactly the 24 records, all Canceled after Running, and no lock or temporary file.
      const registry = new PilotRegistry(test.home);
      const ids = children.flatMap(child => child.report!.pilots.map(pilot => pilot.id)).sort();
      expect(new Set(ids).size).toBe(PROCESSES * PILOTS_PER_PROCESS);
      expect((await readdir(registry.directory)).sort()).toEqual(ids.map(id => `${id}.json`));
      const { records, damaged } = await registry.survey();
      expect(damaged).toEqual([]);
      expect(records.map(record => record.id).sort()).toEqual(ids);
      for (const record of records) {
        expect(record.state).toBe('Canceled');
        expect(record.history.map(change => change.state)).toContain('Running');
      }

      // Nothing of any pilot runs: no member of any supervisor's session (process group and
      // everything it started), and no process mentioning the home.
      for (const record of records) {
        const job = record.job!;
        expect(await sessionMembers(job.pid!, job.pidStartTime)).toEqual([]);
      }
      expect(await processesMentioning(test.home)).toEqual([]);
    },
    RUNNING_TIMEOUT_MS + 300_000
  );
});
