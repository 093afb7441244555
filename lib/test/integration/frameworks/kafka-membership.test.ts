import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigResourceTypes, Kafka, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KAFKA_TOOLS, runKafkaTool } from '../../../src/frameworks/kafka/admin-tool.js';
import { QUIET_LOG_LEVEL, quietLogCreator } from '../../../src/frameworks/kafka/client-logging.js';
import type { ProgressListener } from '../../../src/frameworks/plugin.js';
import {
  ensureKafkaDistribution,
  type KafkaDistribution
} from '../../../src/frameworks/kafka/distribution.js';
import {
  drainBrokers,
  listRegisteredBrokers,
  spreadPartitions,
  unregisterBrokers
} from '../../../src/frameworks/kafka/membership.js';
import {
  isRunning,
  processesMentioning,
  startKafkaCluster,
  type LocalKafkaCluster
} from '../../support/kafka-cluster.js';
import { testCacheDir } from '../../support/paths.js';

const TOPIC = 'events';
const PARTITIONS = 10;
const TOTAL = 10_000;
const BATCH = 100;

let distribution: KafkaDistribution;
let dir: string;
/** Where the membership functions put their temporary files. */
let opsDir: string;
let cluster: LocalKafkaCluster | undefined;
const timings: [string, number][] = [];

async function timed<T>(step: string, run: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await run();
  timings.push([step, Date.now() - started]);
  return result;
}

function kafkaFor(servers: string[]): Kafka {
  return new Kafka({
    clientId: 'membership-test',
    brokers: servers,
    logCreator: quietLogCreator,
    logLevel: QUIET_LOG_LEVEL
  });
}

/**
 * Sends messages `from` ..< `to` in batches, `pauseMs` between batches to pace a phase out.
 * Message i goes to partition i % PARTITIONS, and each send carries one partition only:
 * kafkajs 2.2.4 retries a send spanning several leaders with leaders looked up afresh but the
 * brokers that had answered skipped, so a leader change in between re-sends acknowledged
 * partitions, skips failed ones or breaks the idempotent sequence (tulios/kafkajs#1798).
 */
async function produce(
  producer: Producer,
  runId: string,
  from: number,
  to: number,
  pauseMs: number,
  onAcked: () => void
): Promise<void> {
  for (let start = from; start < to; start += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, to - start) }, (_, k) => start + k);
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const messages = batch
        .filter(i => i % PARTITIONS === partition)
        .map(i => ({ partition, value: `${runId}:${i}` }));
      if (messages.length > 0) await producer.send({ topic: TOPIC, acks: -1, messages });
    }
    onAcked();
    if (pauseMs > 0) await new Promise(resolve => setTimeout(resolve, pauseMs));
  }
}

/**
 * Produces `from` ..< `to` while `operation` runs (both start together, the producer paced to
 * outlast Kafka's data movement) and counts the batches acknowledged while partitions were
 * moving: between the operation's "Starting the reassignment" stage and its end.
 */
async function produceDuring<T>(
  producer: Producer,
  runId: string,
  from: number,
  to: number,
  operation: (onProgress: ProgressListener) => Promise<T>
): Promise<{ result: T; ackedWhileMoving: number }> {
  const ackTimes: number[] = [];
  let movingSince = Infinity;
  const onProgress: ProgressListener = ({ stage }) => {
    if (stage.startsWith('Starting the reassignment'))
      movingSince = Math.min(movingSince, Date.now());
  };
  const [{ result, endedAt }] = await Promise.all([
    operation(onProgress).then(result => ({ result, endedAt: Date.now() })),
    produce(producer, runId, from, to, 150, () => ackTimes.push(Date.now()))
  ]);
  const ackedWhileMoving = ackTimes.filter(t => t >= movingSince && t <= endedAt).length;
  return { result, ackedWhileMoving };
}

async function placement(
  servers: string[],
  topic = TOPIC
): Promise<{ partition: number; leader: number; replicas: number[] }[]> {
  const admin = kafkaFor(servers).admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0]!.partitions.map(p => ({
      partition: p.partitionId,
      leader: p.leader,
      replicas: p.replicas
    }));
  } finally {
    await admin.disconnect();
  }
}

/**
 * Retries `attempt` for up to 30 s while Kafka settles (a new internal topic's coordinator moves
 * while it loads, which kafkajs's admin does not retry); then fails with the last error.
 */
async function untilDone<T>(what: string, attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(`${what} kept failing for 30 s: ${(error as Error).message}`, {
          cause: error
        });
      }
    }
    await new Promise(resolve => setTimeout(resolve, 300));
  }
}

/**
 * Creates a topic with the given replicas per partition and waits until the metadata shows a
 * leader for each (kafkajs's own wait gives up when a broker does not know the topic yet).
 */
async function createTopic(servers: string[], topic: string, replicas: number[][]): Promise<void> {
  const admin = kafkaFor(servers).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: false,
      topics: [
        { topic, replicaAssignment: replicas.map((r, partition) => ({ partition, replicas: r })) }
      ]
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      let problem: string;
      try {
        const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
        const partitions = topics[0]?.partitions ?? [];
        if (partitions.length === replicas.length && partitions.every(p => p.leader >= 0)) return;
        problem = `${partitions.length} partitions, leaders ${partitions.map(p => p.leader).join(',')}`;
      } catch (error) {
        problem = (error as Error).message;
      }
      if (Date.now() > deadline)
        throw new Error(`Topic ${topic} has no leaders after 30 s: ${problem}`);
      await new Promise(resolve => setTimeout(resolve, 200));
    }
  } finally {
    await admin.disconnect();
  }
}

/** The topic's throttled replicas, which a throttled reassignment sets and clears again. */
async function throttledReplicas(servers: string[]): Promise<string> {
  const admin = kafkaFor(servers).admin();
  await admin.connect();
  try {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: TOPIC,
          configNames: ['leader.replication.throttled.replicas']
        }
      ]
    });
    return resources[0]!.configEntries[0]!.configValue;
  } finally {
    await admin.disconnect();
  }
}

function leadersPerBroker(
  partitions: { leader: number }[],
  brokers: number[]
): Record<number, number> {
  return Object.fromEntries(
    brokers.map(id => [id, partitions.filter(p => p.leader === id).length])
  );
}

const checksum = (values: string[]): string =>
  createHash('sha256')
    .update([...values].sort().join('\n'))
    .digest('hex');

beforeAll(async () => {
  distribution = await ensureKafkaDistribution({ cacheDir: testCacheDir() });
  dir = await mkdtemp(join(tmpdir(), 'kafka-membership-'));
  opsDir = join(dir, 'ops');
  await mkdir(opsDir);
});

afterAll(async () => {
  try {
    if (cluster !== undefined) {
      await cluster.stop();
      for (const pid of cluster.pids) expect(isRunning(pid), `pid ${pid}`).toBe(false);
    }
    // No JVM of this run is left, tool or node: all of them name a path in the run's directory.
    expect(await processesMentioning(dir)).toEqual([]);
    if (timings.length > 0) {
      process.stdout.write(
        `Kafka membership steps:\n${timings.map(([step, ms]) => `  ${step}: ${(ms / 1000).toFixed(1)} s`).join('\n')}\n`
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

describe('Kafka cluster membership', () => {
  it('grows a 3-node cluster by 2 brokers and shrinks it back while a producer writes, losing no message', async () => {
    const started = await timed('start 3 combined nodes (ids 1-3, a 3-voter quorum)', () =>
      startKafkaCluster({ distribution, workDir: dir, combinedIds: [1, 2, 3] })
    );
    cluster = started;
    await timed('start 2 broker-only nodes (ids 4, 5) joining the quorum', () =>
      started.addBrokers([4, 5])
    );
    const servers = started.bootstrapServers();
    const access = { bootstrapServers: servers, distribution, workDir: opsDir };

    await createTopic(
      servers,
      TOPIC,
      Array.from({ length: PARTITIONS }, (_, partition) => [
        1 + (partition % 3),
        1 + ((partition + 1) % 3)
      ])
    );

    const runId = randomBytes(8).toString('hex');
    const groupId = `membership-check-${runId}`;
    // Looking up the group's coordinator creates Kafka's offsets topic now, one replica per
    // partition over all 5 brokers: the drain has to move those on 4 and 5 too, or the group
    // consuming at the end would lose its coordinator.
    const lookup = kafkaFor(servers).admin();
    await lookup.connect();
    try {
      await untilDone('finding the group coordinator', () =>
        lookup.fetchOffsets({ groupId, topics: [TOPIC] })
      );
    } finally {
      await lookup.disconnect();
    }
    const offsetsTopic = await placement(servers, '__consumer_offsets');
    expect(offsetsTopic.some(p => p.replicas.some(id => id >= 4))).toBe(true);

    const producer = kafkaFor(servers).producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const third = Math.ceil(TOTAL / 3);
      await timed('produce phase 1 (before)', () =>
        produce(producer, runId, 0, third, 0, () => undefined)
      );

      const stages: string[] = [];
      const spread = await timed('spreadPartitions over 1-5 while producing phase 2', () =>
        produceDuring(producer, runId, third, 2 * third, onProgress =>
          spreadPartitions({
            ...access,
            brokerIds: [1, 2, 3, 4, 5],
            onProgress: progress => {
              stages.push(progress.stage);
              onProgress(progress);
            }
          })
        )
      );
      expect(spread.ackedWhileMoving).toBeGreaterThan(0);
      expect(spread.result.moves.length).toBeGreaterThan(0);
      for (const move of spread.result.moves) expect(move.topic).toBe(TOPIC);
      expect(stages.some(stage => stage.startsWith('Partitions in place'))).toBe(true);
      const spreadOut = await placement(servers);
      expect(leadersPerBroker(spreadOut, [1, 2, 3, 4, 5])).toEqual({
        1: 2,
        2: 2,
        3: 2,
        4: 2,
        5: 2
      });
      for (const id of [1, 2, 3, 4, 5]) {
        expect(spreadOut.filter(p => p.replicas.includes(id))).toHaveLength(4);
      }

      const drain = await timed('drainBrokers 4, 5 onto 1-3 while producing phase 3', () =>
        produceDuring(producer, runId, 2 * third, TOTAL, onProgress =>
          // A throttle far above this test's traffic: the throttled path runs without slowing it.
          drainBrokers({
            ...access,
            remove: [4, 5],
            keep: [1, 2, 3],
            throttleBytesPerSecond: 50_000_000,
            onProgress
          })
        )
      );
      expect(drain.ackedWhileMoving).toBeGreaterThan(0);
      expect(drain.result.moves.length).toBeGreaterThan(0);
      const drained = await placement(servers);
      for (const p of drained) {
        expect(
          p.replicas.every(id => id <= 3),
          `partition ${p.partition}: ${p.replicas.join(',')}`
        ).toBe(true);
      }
      const leaders = Object.values(leadersPerBroker(drained, [1, 2, 3])).sort();
      expect(leaders).toEqual([3, 3, 4]);
      expect(await throttledReplicas(servers)).toBe('');
      for (const p of await placement(servers, '__consumer_offsets')) {
        expect(
          p.replicas.every(id => id <= 3),
          `offsets partition ${p.partition}`
        ).toBe(true);
      }
    } finally {
      await producer.disconnect();
    }

    await timed('stop brokers 4 and 5 (SIGTERM, controlled shutdown)', async () => {
      for (const id of [4, 5]) {
        const exit = await started.stopNode(id);
        expect(exit.signal, `broker ${id} needed SIGKILL`).not.toBe('SIGKILL');
      }
    });
    const liveServers = started.bootstrapServers();
    const liveAccess = { ...access, bootstrapServers: liveServers };
    const before = await timed('list registered brokers (fenced included)', () =>
      listRegisteredBrokers(liveAccess)
    );
    expect(before.filter(b => b.id >= 4).map(b => [b.id, b.state])).toEqual([
      [4, 'fenced'],
      [5, 'fenced']
    ]);
    const unregistered = await timed('unregisterBrokers 4, 5', () =>
      unregisterBrokers({ ...liveAccess, ids: [4, 5] })
    );
    expect(unregistered.unregistered).toEqual([4, 5]);
    expect(unregistered.notRegistered).toEqual([]);
    expect(unregistered.registered.map(b => b.id).sort()).toEqual([1, 2, 3]);

    let written = 0;
    const check = kafkaFor(liveServers).admin();
    await check.connect();
    try {
      const { brokers } = await check.describeCluster();
      expect(brokers.map(b => b.nodeId).sort()).toEqual([1, 2, 3]);
      const offsets = await check.fetchTopicOffsets(TOPIC);
      written = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
    } finally {
      await check.disconnect();
    }

    const consumed = new Map<string, string>();
    await timed('consume everything', async () => {
      const consumer = kafkaFor(liveServers).consumer({
        groupId
      });
      await consumer.connect();
      try {
        await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
        const all = new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`Consumed only ${consumed.size} of ${written} in 90 s`)),
            90_000
          );
          void consumer.run({
            eachMessage: async ({ partition, message }) => {
              consumed.set(`${partition}:${message.offset}`, message.value!.toString());
              if (consumed.size >= written) {
                clearTimeout(timer);
                resolve();
              }
            }
          });
        });
        await all;
      } finally {
        await consumer.disconnect();
      }
    });
    // Every message once: none lost, none written twice.
    const copies = new Map<string, number>();
    for (const value of consumed.values()) copies.set(value, (copies.get(value) ?? 0) + 1);
    const produced = Array.from({ length: TOTAL }, (_, i) => `${runId}:${i}`);
    expect({
      written,
      duplicated: [...copies.values()].filter(count => count > 1).length,
      missing: produced.filter(value => !copies.has(value)).length
    }).toEqual({ written: TOTAL, duplicated: 0, missing: 0 });
    expect(checksum([...consumed.values()])).toBe(checksum(produced));
    // The plans and election files are gone again.
    expect(await readdir(opsDir)).toEqual([]);
  });

  it('refuses bad input with errors naming it, and reports tool failures with their output', async () => {
    const live = cluster!;
    const access = { bootstrapServers: live.bootstrapServers(), distribution, workDir: opsDir };
    const ids = [...live.nodes.keys()].sort();
    await expect(spreadPartitions({ ...access, brokerIds: [1, 2, 9] })).rejects.toThrow(
      `brokerIds: broker 9 is not live in the cluster; expected brokers the metadata lists (${ids.join(',')})`
    );
    await expect(drainBrokers({ ...access, remove: [3], keep: [3, 1] })).rejects.toThrow(
      /share 3; expected disjoint lists/
    );
    await expect(unregisterBrokers({ ...access, ids: [2] })).rejects.toThrow(
      /ids: broker 2 is still running \(the metadata lists it\); expected stopped brokers/
    );
    // Nothing to move: the drain left the cluster even over its live brokers.
    expect((await spreadPartitions({ ...access, brokerIds: ids })).moves).toEqual([]);

    await expect(
      runKafkaTool({
        distribution,
        mainClass: KAFKA_TOOLS.cluster,
        args: ['unregister', '--bootstrap-server', access.bootstrapServers.join(','), '--id', '99'],
        cwd: opsDir,
        timeoutMs: 60_000
      })
    ).rejects.toThrow(
      /ClusterTool unregister --bootstrap-server \S+ --id 99 exited with code 1; last output:\n(.*\n)*.*Broker ID 99 is not currently registered/
    );
    await expect(
      runKafkaTool({
        distribution,
        mainClass: KAFKA_TOOLS.cluster,
        args: ['list-endpoints', '--bootstrap-server', access.bootstrapServers.join(',')],
        cwd: opsDir,
        timeoutMs: 200
      })
    ).rejects.toThrow(/ClusterTool list-endpoints .* did not finish within 0.2 s and was killed/);
    expect(await readdir(opsDir)).toEqual([]);
  });

  it('names the partitions still moving when a throttled reassignment outlasts its timeout', async () => {
    const live = cluster!;
    const servers = live.bootstrapServers();
    const ids = [...live.nodes.keys()].sort();
    // 6 MB in one partition, then its broker is drained: the first fetch of the new replica
    // copies at most 1 MB, the throttle makes the rest take minutes.
    const [drained, ...keep] = ids as [number, ...number[]];
    await createTopic(servers, 'bulk', [[drained]]);
    const producer = kafkaFor(servers).producer();
    await producer.connect();
    try {
      for (let send = 0; send < 12; send++) {
        const messages = Array.from({ length: 5 }, () => ({ value: randomBytes(100_000) }));
        await producer.send({ topic: 'bulk', acks: -1, messages });
      }
    } finally {
      await producer.disconnect();
    }
    const started = Date.now();
    await expect(
      drainBrokers({
        bootstrapServers: servers,
        distribution,
        workDir: opsDir,
        remove: [drained],
        keep,
        throttleBytesPerSecond: 10_000,
        timeoutMs: 20_000
      })
    ).rejects.toThrow(
      /^Timed out after 20 s: still moving \(Kafka goes on with it, throttled to 10000 B\/s; ReassignPartitionsCommand --list shows it, --cancel stops it\): (.*; )?bulk-0 \(replicas now \[[\d,]+\], target \[\d\], in sync \[[\d,]+\]\)(; .*)?$/
    );
    timings.push(['throttled drain until its 20 s timeout', Date.now() - started]);
    expect(await readdir(opsDir)).toEqual([]);
  });
});
