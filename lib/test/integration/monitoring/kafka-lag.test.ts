import type { Admin, Consumer, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DisplayHandle, KernelServices, MimeBundle } from '../../../src/kernel/api.js';
import { fetchKafkaLag } from '../../../src/monitoring/kafka-lag.js';
import {
  monitoringKernelPlugin,
  type KafkaLagMonitor
} from '../../../src/monitoring/kernel-plugin.js';
import { getDefaultPilotService, type Pilot } from '../../../src/pilot/index.js';
import { isTerminal, KAFKA_LAG_MIME_TYPE, type KafkaLagView } from '../../../src/protocol/index.js';
import { usePilotTestHome } from '../../support/pilot-home.js';

/** Messages per partition for each topic: different sizes, so a mix-up would show. */
const TOPICS: Record<'frames-a' | 'frames-b', readonly number[]> = {
  'frames-a': [50, 30, 20],
  'frames-b': [7, 0, 13, 40]
};
/** How many messages the group consumes (and commits) of each topic. */
const CONSUME = { 'frames-a': 40, 'frames-b': 25 } as const;
type TopicName = keyof typeof TOPICS;

async function produce(kafka: Kafka, topic: TopicName): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    const messages = TOPICS[topic].flatMap((count, partition) =>
      Array.from({ length: count }, (_, i) => ({ partition, value: `${topic}/${partition}/${i}` }))
    );
    await producer.send({ topic, messages, acks: -1 });
  } finally {
    await producer.disconnect();
  }
}

/**
 * Consumes exactly `limit` messages of a topic in a group, committing each one it counts, and
 * returns how many it took from each partition.
 */
async function consume(
  kafka: Kafka,
  topic: TopicName,
  groupId: string,
  limit: number
): Promise<number[]> {
  const consumed = TOPICS[topic].map(() => 0);
  let total = 0;
  const consumer: Consumer = kafka.consumer({ groupId });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let done: () => void = () => undefined;
    const finished = new Promise<void>(resolve => (done = resolve));
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 1,
      eachMessage: async ({ partition, message }) => {
        if (total >= limit) return;
        total += 1;
        consumed[partition] = (consumed[partition] ?? 0) + 1;
        await consumer.commitOffsets([
          { topic, partition, offset: String(Number(message.offset) + 1) }
        ]);
        if (total === limit) done();
      }
    });
    await finished;
  } finally {
    await consumer.disconnect();
  }
  return consumed;
}

/** A KernelServices that records what the plugin displays (the real kernel is tested elsewhere). */
function recordingKernel() {
  const globals = new Map<string, unknown>();
  const shutdown: (() => Promise<void> | void)[] = [];
  const shown: { displayId: string; bundles: MimeBundle[] }[] = [];
  const kernel: KernelServices = {
    display(data, options) {
      const entry = { displayId: options?.displayId ?? 'none', bundles: [data] };
      shown.push(entry);
      const handle: DisplayHandle = {
        displayId: entry.displayId,
        update: next => entry.bundles.push(next)
      };
      return handle;
    },
    registerCommTarget: () => undefined,
    openComm: () => {
      throw new Error('not used by the monitoring plugin');
    },
    registerLineMagic: () => undefined,
    registerCellMagic: () => undefined,
    defineGlobal: (name, value) => globals.set(name, value),
    onShutdown: cleanup => shutdown.push(cleanup)
  };
  return { kernel, globals, shown, shutdown };
}

function latestView(bundles: MimeBundle[]): KafkaLagView {
  return bundles.at(-1)?.[KAFKA_LAG_MIME_TYPE] as KafkaLagView;
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise(resolve => setTimeout(resolve, 100));
  }
}

describe('Kafka consumer lag against a real Kafka pilot', () => {
  const test = usePilotTestHome('file');
  let pilot: Pilot;
  let kafka: Kafka;
  let admin: Admin;
  const consumedByTopic = new Map<TopicName, number[]>();

  beforeAll(async () => {
    pilot = await test.service.createPilot({
      type: 'kafka',
      resource: 'fork://localhost',
      name: 'lag-test'
    });
    await pilot.wait('Running', { timeoutMs: 240_000 });
    kafka = await pilot.getContext();
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: Object.entries(TOPICS).map(([topic, partitions]) => ({
        topic,
        numPartitions: partitions.length,
        replicationFactor: 1
      }))
    });
    for (const topic of Object.keys(TOPICS) as TopicName[]) {
      await produce(kafka, topic);
      consumedByTopic.set(topic, await consume(kafka, topic, `group-${topic}`, CONSUME[topic]));
    }
  }, 300_000);

  afterAll(async () => {
    await admin?.disconnect();
    if (pilot !== undefined && !isTerminal(pilot.state)) await pilot.cancel();
    // kafkaLag(id) reattached through the process's default service.
    if (process.env.PILOT_STREAMING_HOME === test.home) await getDefaultPilotService().close();
  }, 120_000);

  it.each(Object.keys(TOPICS) as TopicName[])(
    'lag of topic %s is produced − consumed, in total and per partition',
    async topic => {
      const produced = TOPICS[topic];
      const consumed = consumedByTopic.get(topic)!;
      expect(consumed.reduce((a, b) => a + b, 0)).toBe(CONSUME[topic]);

      const lag = await fetchKafkaLag(admin, topic, `group-${topic}`);
      const producedTotal = produced.reduce((a, b) => a + b, 0);
      expect(lag.totalLag).toBe(producedTotal - CONSUME[topic]);
      expect(lag.partitions).toEqual(
        produced.map((count, partition) => {
          const taken = consumed[partition] ?? 0;
          return {
            partition,
            logEndOffset: count,
            // A partition the group never read from has no commit at all.
            committedOffset: taken === 0 ? -1 : taken,
            lag: count - taken
          };
        })
      );
    }
  );

  it('counts the whole log for a group that has committed nothing', async () => {
    const lag = await fetchKafkaLag(admin, 'frames-a', 'group-that-never-consumed');
    expect(lag.totalLag).toBe(100);
    expect(lag.partitions.map(p => p.committedOffset)).toEqual([-1, -1, -1]);
  });

  it('kafkaLag() shows the lag, follows consumption, and stops when asked', async () => {
    const { kernel, globals, shown } = recordingKernel();
    monitoringKernelPlugin(kernel);
    const kafkaLag = globals.get('kafkaLag') as (
      pilot: Pilot | string,
      options: { topic: string; groupId: string; intervalMs?: number }
    ) => KafkaLagMonitor;

    // By id, as a user would after a kernel restart: the plugin reattaches through the
    // process's default service, so point it at this test's registry.
    process.env.PILOT_STREAMING_HOME = test.home;
    process.env.PILOT_STREAMING_CACHE = test.cacheDir;
    const monitor = kafkaLag(pilot.id, {
      topic: 'frames-a',
      groupId: 'group-frames-a',
      intervalMs: 200
    });
    expect(shown).toHaveLength(1);
    const display = shown[0]!;
    expect(display.displayId).toBe(monitor.displayId);
    expect(latestView(display.bundles)).toMatchObject({
      pilotId: pilot.id,
      topic: 'frames-a',
      totalLag: 0
    });

    await until('the first sample', () =>
      latestView(display.bundles).history.length > 0 ? true : undefined
    );
    expect(latestView(display.bundles).totalLag).toBe(60);
    expect(display.bundles.at(-1)?.['text/plain']).toContain('total 60');

    // Samples keep coming about every 200 ms while nothing else happens.
    const before = display.bundles.length;
    await new Promise(resolve => setTimeout(resolve, 1500));
    expect(display.bundles.length - before).toBeGreaterThanOrEqual(4);

    // Consuming more shows up without asking.
    await consume(kafka, 'frames-a', 'group-frames-a', 15);
    const view = await until('the lag to drop to 45', () => {
      const latest = latestView(display.bundles);
      return latest.totalLag === 45 ? latest : undefined;
    });
    expect(view.partitions.reduce((sum, p) => sum + p.lag, 0)).toBe(45);
    expect(view.history.at(-1)?.totalLag).toBe(45);
    expect(view.history.some(sample => sample.totalLag === 60)).toBe(true);

    await monitor.stop();
    const count = display.bundles.length;
    expect(latestView(display.bundles)).toMatchObject({ stopped: true, totalLag: 45 });
    await new Promise(resolve => setTimeout(resolve, 600));
    expect(display.bundles.length).toBe(count);
  });

  it('reports a missing topic in the view instead of throwing, and stops on kernel shutdown', async () => {
    const { kernel, globals, shown, shutdown } = recordingKernel();
    monitoringKernelPlugin(kernel);
    const kafkaLag = globals.get('kafkaLag') as (
      pilot: Pilot,
      options: { topic: string; groupId: string; intervalMs?: number }
    ) => KafkaLagMonitor;
    kafkaLag(pilot, { topic: 'no-such-topic', groupId: 'g', intervalMs: 200 });
    const display = shown[0]!;
    const failed = await until('an error in the view', () => latestView(display.bundles).error);
    expect(failed).toMatch(/topic|partition|leader/i);

    await Promise.all(shutdown.map(cleanup => cleanup()));
    expect(latestView(display.bundles).stopped).toBe(true);
  });

  it('rejects bad options at the call, naming the key', () => {
    const { kernel, globals } = recordingKernel();
    monitoringKernelPlugin(kernel);
    const kafkaLag = globals.get('kafkaLag') as (
      pilot: unknown,
      options: unknown
    ) => KafkaLagMonitor;
    expect(() => kafkaLag(pilot, { topic: '', groupId: 'g' })).toThrow(/topic = ""/);
    expect(() => kafkaLag(pilot, { topic: 't', groupId: 'g', intervalMs: 5 })).toThrow(
      /intervalMs = 5/
    );
    expect(() => kafkaLag('not-a-pilot', { topic: 't', groupId: 'g' })).toThrow(
      /pilot = "not-a-pilot"/
    );
  });

  it('stops by itself when the pilot is canceled', async () => {
    const { kernel, globals, shown } = recordingKernel();
    monitoringKernelPlugin(kernel);
    const kafkaLag = globals.get('kafkaLag') as (
      pilot: Pilot,
      options: { topic: string; groupId: string; intervalMs?: number }
    ) => KafkaLagMonitor;
    kafkaLag(pilot, { topic: 'frames-b', groupId: 'group-frames-b', intervalMs: 200 });
    const display = shown[0]!;
    await until('the first sample', () =>
      latestView(display.bundles).history.length > 0 ? true : undefined
    );
    expect(latestView(display.bundles).totalLag).toBe(60 - 25);

    await admin.disconnect();
    await pilot.cancel();
    const final = await until(
      'the monitor to stop',
      () => (latestView(display.bundles).stopped ? latestView(display.bundles) : undefined),
      15_000
    );
    expect(final.error).toBe(`pilot ${pilot.id} is Canceled`);
    expect(final.totalLag).toBe(35);
  });
});
