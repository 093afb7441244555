import { execFile } from 'node:child_process';
import { basename, dirname } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { distModule } from '../../support/paths.js';
import { usePilotTestHome } from '../../support/pilot-home.js';
import { smallKafkaCliOptions } from '../../support/small-kafka.js';

const run = promisify(execFile);

describe('the pilot home', () => {
  const test = usePilotTestHome('test');

  it('works when PILOT_STREAMING_HOME is relative (resolved once, from where the tool runs)', async () => {
    const created = await run(
      process.execPath,
      [distModule('cli/main.js'), 'create', '--no-wait', ...smallKafkaCliOptions],
      {
        cwd: dirname(test.home),
        env: {
          ...process.env,
          PILOT_STREAMING_HOME: basename(test.home),
          PILOT_STREAMING_CACHE: test.cacheDir
        },
        timeout: 60_000
      }
    );
    const id = /pilot-[a-z0-9]{12}/.exec(created.stdout)?.[0];
    // The supervisor found the pilot's record: it runs the pilot to Running.
    const pilot = await test.service.getPilot(id!);
    await expect(pilot.wait('Running', { timeoutMs: 170_000 })).resolves.toBe('Running');
    expect(pilot.record.workDir).toBe(`${test.home}/pilots/${id}`);
    await pilot.cancel();
    expect(pilot.state).toBe('Canceled');
  });
});
