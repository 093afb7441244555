import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { newPilotRecord } from '../../../src/pilot/record.js';
import { PilotRegistry } from '../../../src/pilot/registry.js';
import { parsePilotDescription, type PilotRecord } from '../../../src/protocol/index.js';
import { ForkAdaptor } from '../../../src/resource/fork/adaptor.js';
import { runCells, texts } from '../../support/kernel-cells.js';
import { distModule } from '../../support/paths.js';
import { usePilotTestHome } from '../../support/pilot-home.js';
import { smallKafkaPilot } from '../../support/small-kafka.js';

const run = promisify(execFile);

/** A CLI run that may fail: its exit code and output. */
async function cli(
  args: string[],
  env: NodeJS.ProcessEnv
): Promise<{ code: number; stdout: string; stderr: string }> {
  return run(process.execPath, [distModule('cli/main.js'), ...args], { env, timeout: 90_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error
  );
}

/** A good record beside the damaged ones: a pilot that ended. */
async function addEndedRecord(registry: PilotRegistry): Promise<PilotRecord> {
  const good = newPilotRecord(
    'pilot-000000000001',
    parsePilotDescription(smallKafkaPilot),
    new Date()
  );
  await registry.create(good);
  return registry.transition(good.id, 'Canceled', { reason: 'a good record' });
}

describe('a registry with damaged records', () => {
  const test = usePilotTestHome('test');

  it('lists the good pilots, flags the damaged ones with their files, and cancels a damaged Running pilot', async () => {
    const registry = new PilotRegistry(test.home);
    const env = {
      ...process.env,
      PILOT_STREAMING_HOME: test.home,
      PILOT_STREAMING_CACHE: test.cacheDir
    };
    const running = await test.service.createPilot(smallKafkaPilot);
    const job = running.record.job!;
    try {
      await running.wait('Running', { timeoutMs: 170_000 });
      // A good record beside it (ended), and a file that is no record at all.
      const good = await addEndedRecord(registry);
      const notJson = join(registry.directory, 'pilot-000000000002.json');
      await writeFile(notJson, '{not json');
      // The Running pilot's record gets a state no version of the tools knows.
      const runningFile = join(registry.directory, `${running.id}.json`);
      const stored = JSON.parse(await readFile(runningFile, 'utf8')) as Record<string, unknown>;
      await writeFile(runningFile, JSON.stringify({ ...stored, state: 'Exploded' }));

      const listed = await cli(['list'], env);
      expect(listed.stderr).not.toMatch(/reading 'includes'/);
      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(new RegExp(`^${good.id}\\s+Canceled\\s+kafka`, 'm'));
      expect(listed.stderr).toContain(
        `${running.id}  DAMAGED  ${runningFile}: state = "Exploded", expected one of "New"`
      );
      expect(listed.stderr).toContain(`pilot-000000000002  DAMAGED  ${notJson}: not valid JSON`);

      const shown = await cli(['show', running.id], env);
      expect(shown.code).toBe(1);
      expect(shown.stderr).toContain(runningFile);
      expect(shown.stderr).toContain('state = "Exploded"');

      // Cancel stops the damaged pilot from what is on disk, and says its record stays damaged.
      const canceled = await cli(['cancel', running.id], env);
      expect(canceled.stderr).toBe('');
      expect(canceled.code).toBe(0);
      expect(canceled.stdout).toContain(`${running.id} Canceled (its processes are stopped`);
      expect(canceled.stdout).toContain(runningFile);
      expect(await new ForkAdaptor().remaining(job)).toEqual([]);
    } finally {
      // Cleanup finds pilots by their records: this one's is damaged.
      await new ForkAdaptor().terminate(job, 2_000);
    }
  });

  it('%pilot list in the kernel shows the good pilots and flags a damaged record', async () => {
    const registry = new PilotRegistry(test.home);
    const good = await addEndedRecord(registry);
    const damaged = join(registry.directory, 'pilot-000000000002.json');
    await writeFile(damaged, '[]');

    const [list, cancel] = await runCells(test, [
      '%pilot list',
      '%pilot cancel pilot-000000000002'
    ]);
    expect(list!.status).toBe('ok');
    const text = texts(list!).join('\n');
    expect(text).toMatch(new RegExp(`${good.id}\\s+Canceled\\s+kafka`));
    expect(text).toContain(`pilot-000000000002  DAMAGED  ${damaged}: expected a JSON object`);
    // Never launched: no job file to find processes from, and the error says so.
    expect(cancel!.status).toBe('error');
    expect(texts(cancel!).join('\n')).toContain(
      `no job file in ${join(test.home, 'pilots', 'pilot-000000000002')}`
    );
  });

  it('lists a pilot whose resource does not answer as last recorded, and the others', async () => {
    const registry = new PilotRegistry(test.home);
    const good = await addEndedRecord(registry);
    // A pilot on an ssh host whose port nothing listens on any more.
    const closedPort = await new Promise<number>((resolve, reject) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(error => (error ? reject(error) : resolve(port)));
      });
    });
    const remote = newPilotRecord(
      'pilot-000000000003',
      parsePilotDescription({ ...smallKafkaPilot, resource: `ssh://127.0.0.1:${closedPort}` }),
      new Date()
    );
    await registry.create({
      ...remote,
      resourceHome: '/nonexistent/pilot-home',
      mirroredRevision: 1
    });
    await registry.transition(remote.id, 'Pending', {
      patch: { job: { jobId: '4242', host: '127.0.0.1' } }
    });

    try {
      const listed = await cli(['list'], {
        ...process.env,
        PILOT_STREAMING_HOME: test.home,
        PILOT_STREAMING_CACHE: test.cacheDir
      });
      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(new RegExp(`^${good.id}\\s+Canceled\\s+kafka`, 'm'));
      expect(listed.stdout).toMatch(new RegExp(`^${remote.id}\\s+Pending\\s+kafka`, 'm'));
      expect(listed.stderr).toMatch(
        new RegExp(`^${remote.id}  NOT CHECKED  \\(state as last recorded\\): .+`, 'm')
      );
    } finally {
      // Nothing runs for it; the test home's clean-up would otherwise try to stop it.
      await registry.transition(remote.id, 'Canceled', { reason: 'test over' });
    }
  });
});
