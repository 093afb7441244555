import { execFile } from 'node:child_process';
import { chmod, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PilotRegistry } from '../../../src/pilot/registry.js';
import { ForkAdaptor } from '../../../src/resource/fork/adaptor.js';
import { distModule } from '../../support/paths.js';
import { usePilotTestHome } from '../../support/pilot-home.js';
import { smallKafkaCliOptions } from '../../support/small-kafka.js';
import { until } from '../../support/until.js';

const run = promisify(execFile);
/**
 * Root may write anywhere, read-only or not: the tools run without the capabilities that let
 * it (setpriv drops them from the bounding set), so a 0500 registry is read-only to them. Kept
 * as root otherwise, they reach the checkout and the test's home wherever those are.
 */
const WITHOUT_OVERRIDE = [
  'setpriv',
  '--bounding-set=-dac_override,-dac_read_search,-fowner',
  '--'
] as const;

describe('a read-only registry', () => {
  const test = usePilotTestHome('test');

  it.skipIf(process.getuid?.() !== 0)(
    'lists, refuses writes with the path, and keeps a cancel recorded as Canceled',
    async () => {
      const env = {
        ...process.env,
        HOME: test.home,
        PILOT_STREAMING_HOME: test.home,
        PILOT_STREAMING_CACHE: test.cacheDir
      };
      const cli = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
        run(
          WITHOUT_OVERRIDE[0],
          [...WITHOUT_OVERRIDE.slice(1), process.execPath, distModule('cli/main.js'), ...args],
          {
            env,
            timeout: 90_000
          }
        ).then(
          ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
          (error: { code: number; stdout: string; stderr: string }) => error
        );

      const created = await cli(['create', '--no-wait', ...smallKafkaCliOptions]);
      expect(created.code, created.stderr).toBe(0);
      const id = /pilot-[a-z0-9]{12}/.exec(created.stdout)![0];
      // Watched by reading the file only: this (root) process must write nothing there.
      const registry = new PilotRegistry(test.home);
      expect(await until(async () => (await registry.read(id)).state === 'Running', 170_000)).toBe(
        true
      );
      const job = (await registry.read(id)).job!;

      await chmod(registry.directory, 0o500);
      try {
        const listed = await cli(['list']);
        expect(listed.stderr).toBe('');
        expect(listed.code).toBe(0);
        expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+Running\\s+kafka`, 'm'));
        expect((await cli(['show', id])).code).toBe(0);

        const canceled = await cli(['cancel', id]);
        expect(canceled.code).toBe(1);
        expect(canceled.stderr).toContain(
          `Cannot record that pilot ${id} is Canceled (its processes are stopped; it will show Canceled once the registry is writable again`
        );
        expect(canceled.stderr).toContain(
          `${join(registry.directory, id)}.json.lock is not writable`
        );
        expect(await new ForkAdaptor().remaining(job)).toEqual([]);

        // Still read-only: a read shows the end it finds, saying that it is not recorded, and
        // at once (a write it cannot make is not retried as if the lock were busy).
        const showing = Date.now();
        const afterCancel = await cli(['show', id]);
        expect(Date.now() - showing).toBeLessThan(10_000);
        expect(afterCancel.code).toBe(0);
        const shown = JSON.parse(afterCancel.stdout) as { state: string; reason: string };
        expect(shown.state).toBe('Canceled');
        expect(shown.reason).toMatch(/not recorded: Cannot change the record/);
      } finally {
        await chmod(registry.directory, 0o700);
      }
      // Writable again: the next read records the cancel, not a crash.
      const listed = await cli(['list']);
      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+Canceled\\s+kafka`, 'm'));
      const record = await registry.read(id);
      expect(record.state).toBe('Canceled');
      expect(record.history.map(change => change.state)).toEqual([
        'New',
        'Pending',
        'Running',
        'Canceled'
      ]);
      expect((await readdir(registry.directory)).sort()).toEqual([`${id}.json`]);
    }
  );
});
