import type { Admin, Consumer, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DisplayHandle, KernelServices, MimeBundle } from '../../../src/kernel/api.js';
import {
  fetchKafkaLag,
  type KafkaLagSample,
  type LagSnapshot
} from '../../../src/monitoring/kafka-lag.js';
import {
  monitoringKernelPlugin,
  type KafkaLagFunction
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
    onShutdown: cleanup => shutdown.push(cleanup),
    onInterrupt: () => () => undefined
  };
  return { kernel, globals, shown, shutdown };
}

/** The plugin on a recording kernel: its kafkaLag, what it shows, and the kernel's shutdown. */
function lagPlugin() {
  const { kernel, globals, shown, shutdown } = recordingKernel();
  monitoringKernelPlugin(kernel);
  return {
    kafkaLag: globals.get('kafkaLag') as KafkaLagFunction,
    shown,
    shutdownKernel: () => Promise.all(shutdown.map(cleanup => cleanup()))
  };
}

/** Calls `body` with every process.stderr write it makes collected. */
async function capturingStderr(body: (written: string[]) => Promise<void>): Promise<void> {
  const written: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    written.push(String(chunk));
    return write(chunk, ...rest);
  }) as typeof process.stderr.write;
  try {
    await body(written);
  } finally {
    process.stderr.write = write;
  }
}

/** The lag of a sample of a topic that exists (fails the test otherwise). */
async function lagOf(sample: Promise<KafkaLagSample>): Promise<LagSnapshot> {
  const answer = await sample;
  if (!answer.topicExists) throw new Error('the broker says the topic does not exist');
  return answer;
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

      const lag = await lagOf(fetchKafkaLag(admin, topic, `group-${topic}`));
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
    const lag = await lagOf(fetchKafkaLag(admin, 'frames-a', 'group-that-never-consumed'));
    expect(lag.totalLag).toBe(100);
    expect(lag.partitions.map(p => p.committedOffset)).toEqual([-1, -1, -1]);
  });

  it('kafkaLag() shows the lag, follows consumption, and stops when asked', async () => {
    const { kafkaLag, shown } = lagPlugin();
    // By id, as a user would after a kernel restart: the plugin reattaches through the
    // process's default service, so point it at this test's registry.
    process.env.PILOT_STREAMING_HOME = test.home;
    process.env.PILOT_STREAMING_CACHE = test.cacheDir;
    const monitor = await kafkaLag(pilot.id, {
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
    expect(latestView(display.bundles)).toMatchObject({
      totalLag: 60,
      topicExists: true,
      group: { state: 'Empty', hasCommittedOffsets: true }
    });
    // Nothing to say of the group: it has consumed.
    expect(display.bundles.at(-1)?.['text/plain']).toMatch(
      /^Kafka lag of group "group-frames-a" on topic "frames-a": total 60 \(p0: \d+, p1: \d+, p2: \d+\)$/
    );

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

  it('fails at once on an unknown pilot id, naming it and the pilots there', async () => {
    const { kafkaLag, shown, shutdownKernel } = lagPlugin();
    process.env.PILOT_STREAMING_HOME = test.home;
    process.env.PILOT_STREAMING_CACHE = test.cacheDir;
    const unknown = 'pilot-0000deadbeef';
    const started = Date.now();
    try {
      // Promise.resolve().then: a kafkaLag that returned a monitor instead would resolve here.
      await expect(
        Promise.resolve().then(() =>
          kafkaLag(unknown, { topic: 'frames-a', groupId: 'g', intervalMs: 200 })
        )
      ).rejects.toThrow(
        new RegExp(`no pilot with id "${unknown}".*${pilot.id} \\(lag-test, Running\\)`, 'is')
      );
      expect(Date.now() - started).toBeLessThan(5_000);
      // Nothing to show, nothing left sampling.
      expect(shown).toEqual([]);
    } finally {
      await shutdownKernel();
    }
  });

  it('says a topic does not exist, without kafkajs noise, and shows its lag once it is created', async () => {
    const { kafkaLag, shown, shutdownKernel } = lagPlugin();
    const topic = 'created-later';
    try {
      await capturingStderr(async stderr => {
        kafkaLag(pilot, { topic, groupId: 'late-readers', intervalMs: 200 });
        const display = shown[0]!;
        const missing = await until('the view to say the topic is missing', () =>
          latestView(display.bundles).topicExists === false
            ? latestView(display.bundles)
            : undefined
        );
        expect(missing.partitions).toEqual([]);
        expect(missing.error).toBeUndefined();
        expect(display.bundles.at(-1)?.['text/plain']).toContain(`topic "${topic}" does not exist`);
        // A few seconds of watching: no kafkajs line, and no sample every 200 ms either.
        const before = display.bundles.length;
        await new Promise(resolve => setTimeout(resolve, 4_000));
        expect(stderr.filter(line => line.includes('kafkajs'))).toEqual([]);
        expect(display.bundles.length - before).toBeLessThanOrEqual(2);
      });

      // A monitor started before the producer: the topic appears, and so does its lag.
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic, numPartitions: 2, replicationFactor: 1 }]
      });
      const producer = kafka.producer();
      await producer.connect();
      try {
        await producer.send({
          topic,
          acks: -1,
          messages: Array.from({ length: 9 }, (_, i) => ({ partition: i % 2, value: String(i) }))
        });
      } finally {
        await producer.disconnect();
      }
      const display = shown[0]!;
      const view = await until(
        'the lag of the new topic',
        () => {
          const latest = latestView(display.bundles);
          return latest.totalLag === 9 ? latest : undefined;
        },
        20_000
      );
      expect(view.topicExists).toBe(true);
      expect([view.stopped, view.error]).toEqual([undefined, undefined]);
      expect(view.partitions.map(p => p.logEndOffset)).toEqual([5, 4]);
    } finally {
      await shutdownKernel();
    }
    expect(latestView(shown[0]!.bundles).stopped).toBe(true);
  });

  it('says when the group does not exist, still showing the end offsets', async () => {
    const { kafkaLag, shown, shutdownKernel } = lagPlugin();
    try {
      kafkaLag(pilot, { topic: 'frames-a', groupId: 'nobody-reads', intervalMs: 200 });
      const display = shown[0]!;
      const view = await until('the first sample', () =>
        latestView(display.bundles).history.length > 0 ? latestView(display.bundles) : undefined
      );
      expect(view.group).toEqual({ state: 'Dead', hasCommittedOffsets: false });
      expect(view.partitions.map(p => [p.logEndOffset, p.committedOffset])).toEqual([
        [50, -1],
        [30, -1],
        [20, -1]
      ]);
      expect(display.bundles.at(-1)?.['text/plain']).toContain(
        'group "nobody-reads" does not exist (no committed offsets)'
      );
    } finally {
      await shutdownKernel();
    }
  });

  it('says when a group that exists has committed nothing on the topic', async () => {
    const { kafkaLag, shown, shutdownKernel } = lagPlugin();
    try {
      // group-frames-b committed on frames-b only.
      kafkaLag(pilot, { topic: 'frames-a', groupId: 'group-frames-b', intervalMs: 200 });
      const display = shown[0]!;
      const view = await until('the first sample', () =>
        latestView(display.bundles).history.length > 0 ? latestView(display.bundles) : undefined
      );
      expect(view.group).toEqual({ state: 'Empty', hasCommittedOffsets: false });
      expect(display.bundles.at(-1)?.['text/plain']).toContain(
        'group "group-frames-b" has no committed offsets on this topic'
      );
    } finally {
      await shutdownKernel();
    }
  });

  it('rejects bad options at the call, naming the key', () => {
    const { kafkaLag, shown } = lagPlugin();
    expect(() => kafkaLag(pilot, { topic: '', groupId: 'g' })).toThrow(/topic = ""/);
    expect(() => kafkaLag(pilot, { topic: 't', groupId: 'g', intervalMs: 5 })).toThrow(
      /intervalMs = 5/
    );
    expect(() => kafkaLag('not-a-pilot', { topic: 't', groupId: 'g' })).toThrow(
      /pilot = "not-a-pilot"/
    );
    expect(shown).toEqual([]);
  });

  it('stops by itself when the pilot is canceled, and refuses to start on it then', async () => {
    const { kafkaLag, shown } = lagPlugin();
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
    expect(final).toMatchObject({ pilotEnded: 'Canceled', totalLag: 35 });
    expect(final.error).toBeUndefined();
    expect(display.bundles.at(-1)?.['text/plain']).toMatch(
      new RegExp(`\\(stopped: pilot ${pilot.id} is Canceled\\)$`)
    );

    // An ended pilot has no broker: a new monitor fails at once, by Pilot and by id.
    const options = { topic: 'frames-b', groupId: 'group-frames-b' };
    expect(() => kafkaLag(pilot, options)).toThrow(`Pilot ${pilot.id} is Canceled: it has ended`);
    process.env.PILOT_STREAMING_HOME = test.home;
    process.env.PILOT_STREAMING_CACHE = test.cacheDir;
    await expect(kafkaLag(pilot.id, options)).rejects.toThrow(
      `Pilot ${pilot.id} is Canceled: it has ended`
    );
    expect(shown).toHaveLength(1);
  });
});
