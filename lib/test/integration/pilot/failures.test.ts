import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { Pilot } from '../../../src/pilot/index.js';
import { ValidationError, type PilotDescriptionInput } from '../../../src/protocol/index.js';
import { ForkAdaptor } from '../../../src/resource/fork/adaptor.js';
import { isProcessAlive, readProcessStat } from '../../../src/resource/fork/processes.js';
import { distModule } from '../../support/paths.js';
import {
  connectionRefused,
  processesMentioning,
  usePilotTestHome
} from '../../support/pilot-home.js';
import { until } from '../../support/until.js';

const run = promisify(execFile);
const description = { type: 'kafka', resource: 'fork://localhost' } as const;

/** The broker's java process among the pilot's processes. */
async function brokerPid(pilot: Pilot): Promise<number> {
  for (const pid of await new ForkAdaptor().remaining(pilot.record.job!)) {
    const commandLine = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    if (commandLine.includes('kafka.Kafka')) return pid;
  }
  throw new Error(`no broker process found for ${pilot.id}`);
}

describe('Kafka pilot failures', () => {
  const test = usePilotTestHome('test');

  it('turns Failed with a reason within 10 s when the broker is killed from outside', async () => {
    const pilot = await test.service.createPilot(description);
    await pilot.wait('Running', { timeoutMs: 170_000 });
    const port = Number(pilot.record.details!.bootstrapServers[0]!.split(':')[1]);
    const broker = await brokerPid(pilot);

    const killedAt = Date.now();
    process.kill(broker, 'SIGKILL');
    // A reader in another service (as another kernel) sees the change.
    const reader = await test.newService().getPilot(pilot.id);
    const failed = await until(async () => (await reader.refresh()).state === 'Failed', 10_000);
    const elapsed = Date.now() - killedAt;
    console.log(`broker killed -> Failed in ${elapsed} ms`);
    expect(failed).toBe(true);
    expect(elapsed).toBeLessThan(10_000);
    expect(reader.record.reason).toMatch(
      /Kafka broker 1 on \S+ \(pid \d+\) was killed by signal SIGKILL/
    );
    expect(reader.record.reason).toMatch(/last log lines/);
    await expect(pilot.wait('Running', { timeoutMs: 5000 })).rejects.toThrow(/ended Failed/);
    // The supervisor exits after recording it: nothing is left.
    expect(
      await until(
        async () => (await new ForkAdaptor().remaining(pilot.record.job!)).length === 0,
        10_000
      )
    ).toBe(true);
    expect(await connectionRefused(port)).toBe(true);
  });

  it('is marked Failed by a reader when its supervisor is killed, and the broker is stopped', async () => {
    const pilot = await test.service.createPilot(description);
    await pilot.wait('Running', { timeoutMs: 170_000 });
    const port = Number(pilot.record.details!.bootstrapServers[0]!.split(':')[1]);
    const broker = await brokerPid(pilot);
    const supervisor = pilot.record.job!.pid!;

    process.kill(supervisor, 'SIGKILL');
    expect(await until(async () => (await readProcessStat(supervisor)) === undefined, 5_000)).toBe(
      true
    );
    const reader = await test.newService().getPilot(pilot.id);
    expect(reader.state).toBe('Failed');
    expect(reader.record.reason).toMatch(/supervisor \(job \d+ on localhost\) is gone/);
    // The reader also stopped what the dead supervisor had started.
    expect(await isProcessAlive(broker, undefined)).toBe(false);
    expect(await connectionRefused(port)).toBe(true);
  });

  it('fails with the broker log when Kafka rejects the configuration', async () => {
    const pilot = await test.service.createPilot({
      ...description,
      // Each value is fine on its own (the pre-launch check passes it); only Kafka's start-up
      // check of the two together refuses it.
      configuration: { 'replica.fetch.wait.max.ms': 60_000, 'replica.lag.time.max.ms': 30_000 }
    });
    const error = await pilot.wait('Running', { timeoutMs: 120_000 }).then(
      () => undefined,
      (e: unknown) => e as Error
    );
    expect(error?.message).toMatch(/ended Failed before reaching Running: start-up failed/);
    expect(error?.message).toMatch(/replica\.(fetch\.wait\.max|socket\.timeout)\.ms should always/);
    expect(
      await until(
        async () => (await new ForkAdaptor().remaining(pilot.record.job!)).length === 0,
        10_000
      )
    ).toBe(true);
  });

  it('leaves no record and no process for invalid descriptions (service and CLI)', async () => {
    const invalid: Record<string, unknown>[] = [
      { ...description, type: 'storm' },
      { ...description, resource: 'ftp://example.org' },
      { ...description, coresPerNode: -1 },
      { ...description, configuration: { 'node.id': 7 } },
      { ...description, numberOfNodes: 3 }
    ];
    for (const input of invalid) {
      await expect(test.service.createPilot(input as PilotDescriptionInput)).rejects.toThrow(
        ValidationError
      );
    }
    const cli = distModule('cli/main.js');
    const env = {
      ...process.env,
      PILOT_STREAMING_HOME: test.home,
      PILOT_STREAMING_CACHE: test.cacheDir
    };
    const failure = await run(
      process.execPath,
      [
        cli,
        'create',
        '--type',
        'kafka',
        '--resource',
        'fork://example.org',
        '--config',
        'listeners=x'
      ],
      { env }
    ).then(
      () => undefined,
      (e: unknown) => e as { code: number; stderr: string }
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(
      /resource = "fork:\/\/example.org", expected fork:\/\/ only runs on the local machine/
    );
    expect(failure?.stderr).not.toMatch(/^\s+at /m);

    const registry = await readdir(join(test.home, 'registry')).catch(() => []);
    expect(registry.filter(name => name.endsWith('.json'))).toEqual([]);
    expect(await processesMentioning(test.home)).toEqual([]);
  });

  it('works from the CLI: create with progress, list, show, cancel', async () => {
    const cli = distModule('cli/main.js');
    const env = {
      ...process.env,
      PILOT_STREAMING_HOME: test.home,
      PILOT_STREAMING_CACHE: test.cacheDir
    };
    const created = await run(
      process.execPath,
      [
        cli,
        'create',
        '--type',
        'kafka',
        '--resource',
        'fork://localhost',
        '--name',
        'from-cli',
        '--config',
        'num.partitions=2'
      ],
      { env, timeout: 170_000 }
    );
    const [id, state, bootstrap] = created.stdout.trim().split(' ');
    expect(state).toBe('Running');
    expect(bootstrap).toMatch(/^127\.0\.0\.1:\d+$/);
    // Progress went to stderr, one line per stage (no terminal here).
    expect(created.stderr).toMatch(/Waiting for 1 Kafka broker\(s\) to join the cluster/);

    const listed = await run(process.execPath, [cli, 'list'], { env });
    expect(listed.stdout).toMatch(
      new RegExp(`^${id}\\s+from-cli\\s+Running\\s+kafka\\s+fork://localhost\\s+\\d+s$`, 'm')
    );
    const shown = JSON.parse((await run(process.execPath, [cli, 'show', id!], { env })).stdout) as {
      state: string;
      details: { bootstrapServers: string[] };
      description: { configuration: Record<string, unknown> };
    };
    expect(shown.state).toBe('Running');
    expect(shown.details.bootstrapServers).toEqual([bootstrap]);
    expect(shown.description.configuration).toEqual({ 'num.partitions': '2' });

    const canceled = await run(process.execPath, [cli, 'cancel', id!], { env, timeout: 60_000 });
    expect(canceled.stdout.trim()).toBe(`${id} Canceled`);
    expect(await processesMentioning(test.home)).toEqual([]);

    const unknown = await run(process.execPath, [cli, 'show', 'pilot-000000000000'], { env }).then(
      () => undefined,
      (e: unknown) => e as { code: number; stderr: string }
    );
    expect(unknown?.code).toBe(1);
    expect(unknown?.stderr).toMatch(/No pilot with id "pilot-000000000000"/);
  });
});
