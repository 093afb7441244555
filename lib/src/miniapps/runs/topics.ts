/**
 * A run's topics: the data topic (made when missing) and `<topic>.metrics` (one partition, the
 * units' reports). A MASS run's message size is checked against what the topic will accept
 * before anything is made, so a refused run leaves the broker as it was.
 */
import type { Admin } from 'kafkajs';
import { MiniAppInputError } from '../errors.js';
import { messageSize } from '../messages/format.js';
import { openSource } from '../mass/sources.js';
import type { SourceSpec } from './spec.js';

// kafkajs' ConfigResourceTypes (its CommonJS export is not visible to a named ES import).
const TOPIC_RESOURCE = 2;
const BROKER_RESOURCE = 4;
/** How long new topics may take to have a leader for every partition. */
const LEADER_WAIT_MS = 30_000;

export interface RunTopics {
  topic: string;
  metricsTopic: string;
  /** Partitions of the data topic when it is made. */
  partitions: number;
  /** A MASS run's source, whose first message is checked against the size limit. */
  source?: SourceSpec;
  runId?: string;
}

/** Makes the run's topics; resolves with the data topic's partition count (made or found). */
export async function prepareRunTopics(admin: Admin, run: RunTopics): Promise<number> {
  const existing = new Set(await admin.listTopics());
  if (run.source !== undefined)
    await checkMessageSize(admin, run.topic, existing.has(run.topic), run.source, run.runId ?? '');
  const topics = [];
  if (!existing.has(run.topic)) topics.push({ topic: run.topic, numPartitions: run.partitions });
  if (!existing.has(run.metricsTopic)) topics.push({ topic: run.metricsTopic, numPartitions: 1 });
  if (topics.length > 0) await admin.createTopics({ topics, waitForLeaders: false });
  return waitForLeaders(admin, [run.topic, run.metricsTopic]);
}

/**
 * Waits until every partition of the topics has a leader; resolves with the first topic's
 * partition count. kafkajs' own waitForLeaders sometimes fails right after a creation with "This
 * server does not host this topic-partition", which only means the broker is not there yet.
 */
async function waitForLeaders(admin: Admin, names: string[]): Promise<number> {
  const deadline = Date.now() + LEADER_WAIT_MS;
  let problem: string;
  for (;;) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: names });
      const leaderless = topics.flatMap(t =>
        t.partitions.filter(p => p.leader < 0).map(p => `${t.name}[${p.partitionId}]`)
      );
      if (leaderless.length === 0 && topics.length === names.length)
        return topics.find(t => t.name === names[0])!.partitions.length;
      problem = `no leader yet for ${leaderless.join(', ') || names.join(', ')}`;
    } catch (error) {
      problem = (error as Error).message;
    }
    if (Date.now() > deadline)
      throw new Error(
        `topics ${names.join(', ')} are not ready after ${LEADER_WAIT_MS / 1000} s: ${problem}`
      );
    await new Promise(resolve => setTimeout(resolve, 200));
  }
}

/** The topic's max.message.bytes, or the broker's message.max.bytes for a topic to make. */
async function messageLimit(
  admin: Admin,
  topic: string,
  topicExists: boolean
): Promise<{ limit: number; setting: string }> {
  if (topicExists) {
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: TOPIC_RESOURCE, name: topic, configNames: ['max.message.bytes'] }]
    });
    return {
      limit: Number(resources[0]?.configEntries[0]?.configValue),
      setting: `topic "${topic}" accepts (max.message.bytes`
    };
  }
  const { brokers } = await admin.describeCluster();
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [
      {
        type: BROKER_RESOURCE,
        name: String(brokers[0]?.nodeId ?? 0),
        configNames: ['message.max.bytes']
      }
    ]
  });
  return {
    limit: Number(resources[0]?.configEntries[0]?.configValue),
    setting: `a new topic "${topic}" accepts (the broker's message.max.bytes`
  };
}

async function checkMessageSize(
  admin: Admin,
  topic: string,
  topicExists: boolean,
  spec: SourceSpec,
  runId: string
): Promise<void> {
  const source = await openSource(spec, 0);
  const first = source.message(0);
  const bytes = messageSize(
    { ...first.header, runId, producerId: 0, sequence: 0 },
    first.payload.byteLength
  );
  const { limit, setting } = await messageLimit(admin, topic, topicExists);
  if (Number.isFinite(limit) && bytes > limit)
    throw new MiniAppInputError(
      `a ${spec.kind} message is ${bytes} bytes, more than ${setting} = ${limit}): raise the topic's max.message.bytes (create it with a larger one, or set message.max.bytes in the pilot's Kafka configuration), or send smaller messages`
    );
}
