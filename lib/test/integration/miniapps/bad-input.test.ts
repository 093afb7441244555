import { execFile } from 'node:child_process';
import { readFile, readlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import h5wasm from 'h5wasm/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { masa, mass, type MasaOptions, type MassOptions } from '../../../src/miniapps/api.js';
import type { Pilot } from '../../../src/pilot/index.js';
import { isTerminal } from '../../../src/protocol/index.js';
import { distModule, sharedDataDir } from '../../support/paths.js';
import { processesMentioning, usePilotTestHome } from '../../support/pilot-home.js';

const run = promisify(execFile);
const tooth = join(sharedDataDir, 'tooth.h5');
const UNIT_ENTRY = 'miniapps/unit-main.js';

/** Unit processes working in a directory of `home` (other tests' units may run beside). */
async function unitProcessesOf(home: string): Promise<number[]> {
  const found: number[] = [];
  for (const pid of await processesMentioning(UNIT_ENTRY)) {
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
    if (cwd.startsWith(home)) found.push(pid);
  }
  return found;
}

async function exchangeWithoutData(path: string): Promise<void> {
  await h5wasm.ready;
  const file = new h5wasm.File(path, 'w');
  try {
    file.create_group('exchange').create_dataset({
      name: 'data_white',
      data: new Float32Array(16),
      shape: [1, 2, 8],
      dtype: '<f'
    });
  } finally {
    file.close();
  }
}

describe('Mini-Apps refuse bad input clearly and leave nothing running', () => {
  const test = usePilotTestHome('file');
  let pilot: Pilot;

  beforeAll(async () => {
    pilot = await test.service.createPilot({ type: 'kafka', resource: 'fork://localhost' });
    await pilot.wait('Running', { timeoutMs: 170_000 });
  });

  afterAll(async () => {
    await pilot.cancel();
  });

  async function expectIdle(): Promise<void> {
    const open = (await pilot.listUnits()).filter(unit => !isTerminal(unit.state));
    expect(open.map(unit => unit.name)).toEqual([]);
    expect(await unitProcessesOf(test.home)).toEqual([]);
  }

  const refusedMass: {
    name: string;
    options: (dir: string) => Promise<MassOptions>;
    error: RegExp;
  }[] = [
    {
      name: 'a missing HDF5 file',
      options: async dir => ({ source: { kind: 'lightsource', file: join(dir, 'missing.h5') } }),
      error: /lightsource file: .*missing\.h5 does not exist/
    },
    {
      name: 'a truncated HDF5 file',
      options: async dir => {
        await writeFile(join(dir, 'truncated.h5'), (await readFile(tooth)).subarray(0, 100_000));
        return { source: { kind: 'lightsource', file: join(dir, 'truncated.h5') } };
      },
      error: /truncated\.h5 is not a readable HDF5 file/
    },
    {
      name: 'an HDF5 file without /exchange/data',
      options: async dir => {
        await exchangeWithoutData(join(dir, 'nodata.h5'));
        return { source: { kind: 'lightsource', file: join(dir, 'nodata.h5') } };
      },
      error: /nodata\.h5: dataset \/exchange\/data is missing/
    },
    {
      name: "a message larger than the topic's max.message.bytes",
      options: async () => ({
        source: { kind: 'synthetic-bytes', size: 2_000_000 },
        topic: 'too-big'
      }),
      error:
        /2000\d+ bytes, more than a new topic "too-big" accepts \(the broker's message\.max\.bytes = \d+\): raise the topic's max\.message\.bytes/
    },
    {
      name: 'a rate of 0',
      options: async () => ({ source: 'cluster', rate: 0 }),
      error: /rate = 0: expected a positive number of messages per second/
    },
    {
      name: 'a negative rate in a ramp',
      options: async () => ({
        source: 'cluster',
        rate: { kind: 'ramp', from: -1, to: 5, over: 10 }
      }),
      error: /rate\.from = -1/
    },
    {
      name: 'an unknown source',
      options: async () => ({ source: 'camera' as never }),
      error:
        /source\.kind = "camera": expected one of cluster, static, lightsource, synthetic-bytes, function/
    }
  ];

  for (const { name, options, error } of refusedMass) {
    it(`refuses MASS with ${name}`, async () => {
      const topicsBefore = await listTopics();
      await expect(mass(pilot, await options(test.home), test.service)).rejects.toThrow(error);
      await expectIdle();
      expect(await listTopics()).toEqual(topicsBefore);
    });
  }

  const refusedMasa: { name: string; options: MasaOptions; error: RegExp }[] = [
    {
      name: 'an unknown algorithm',
      options: { topic: 't', processor: 'art' as never },
      error:
        /processor\.kind = "art": expected one of kmeans, gridrec, fbp, mlem, sirt, bp, count, function/
    },
    {
      name: 'a wrong filter name',
      options: { topic: 't', processor: { kind: 'gridrec', filter: 'gauss' } },
      error: /filter = "gauss".*shepp/
    },
    {
      name: 'zero iterations',
      options: { topic: 't', processor: { kind: 'mlem', iterations: 0 } },
      error: /iterations = 0/
    },
    {
      name: 'a function that does not compile',
      options: { topic: 't', processor: { kind: 'function', source: '(m) => {' } },
      error: /processor: the function does not compile/
    }
  ];

  for (const { name, options, error } of refusedMasa) {
    it(`refuses MASA with ${name}`, async () => {
      await expect(masa(pilot, options, test.service)).rejects.toThrow(error);
      await expectIdle();
    });
  }

  it("fails a run whose processor function throws, with the function's stack, and stops it", async () => {
    const source = await mass(pilot, { source: 'static', rate: 20, messages: 5 }, test.service);
    const sink = await masa(
      pilot,
      {
        topic: source.topic,
        processor: function checkPoints(message: { header: { sequence: number } }) {
          if (message.header.sequence >= 0) throw new RangeError('no points wanted here');
        }
      },
      test.service
    );
    const summary = await sink.done();
    expect(summary.state).toBe('failed');
    expect(summary.reason).toMatch(
      /consumer-0 .*failed: UserFunctionError: processor function "checkPoints" threw RangeError: no points wanted here/
    );
    // The stack names the user's function.
    expect(summary.reason).toMatch(/at .*checkPoints .*processor\.js:\d+:\d+/);
    await source.done();
    await expectIdle();
  });

  async function listTopics(): Promise<string[]> {
    const admin = (await pilot.getContext()).admin();
    await admin.connect();
    try {
      return (await admin.listTopics()).sort();
    } finally {
      await admin.disconnect();
    }
  }
});

describe('pilot-streaming mass and masa', () => {
  const test = usePilotTestHome('file');
  let pilot: Pilot;
  const cli = (args: string[]) =>
    run(process.execPath, [distModule('cli/main.js'), ...args], {
      env: { ...process.env, PILOT_STREAMING_HOME: test.home, PILOT_STREAMING_CACHE: test.cacheDir }
    });

  beforeAll(async () => {
    pilot = await test.service.createPilot({ type: 'kafka', resource: 'fork://localhost' });
    await pilot.wait('Running', { timeoutMs: 170_000 });
  });

  afterAll(async () => {
    await pilot.cancel();
  });

  it("runs KMeans from the shell and prints each run's summary as JSON", async () => {
    const produced = JSON.parse(
      (
        await cli([
          'mass',
          pilot.id,
          '--source',
          'cluster',
          '--rate',
          '50',
          '--messages',
          '40',
          '--topic',
          'points',
          '--json'
        ])
      ).stdout
    ) as Record<string, unknown>;
    expect(produced).toMatchObject({ role: 'mass', kind: 'cluster', state: 'ended', produced: 40 });
    const processed = JSON.parse(
      (
        await cli([
          'masa',
          pilot.id,
          '--topic',
          'points',
          '--processor',
          'kmeans',
          '--k',
          '10',
          '--until',
          'drained',
          '--json'
        ])
      ).stdout
    ) as Record<string, unknown>;
    expect(processed).toMatchObject({
      role: 'masa',
      kind: 'kmeans',
      state: 'ended',
      processed: 40,
      lost: 0,
      duplicated: 0
    });
    expect((processed.latencyMs as { p99: number }).p99).toBeGreaterThan(0);
    expect(
      JSON.parse(await readFile((processed.record as { recordPath: string }).recordPath, 'utf8'))
    ).toMatchObject({
      id: processed.runId,
      consumers: [{ id: 'consumer-0', messages: 40 }]
    });
  });

  it('refuses a bad flag before it connects, naming the flag', async () => {
    const failure = await cli([
      'masa',
      pilot.id,
      '--topic',
      't',
      '--processor',
      'gridrec',
      '--iterations',
      'many'
    ]).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toMatch(
      /--iterations "many": expected a number/
    );
  });
});
