import type { Admin } from 'kafkajs';
import type { KafkaLagGroup, PartitionLag } from '../protocol/index.js';

/** Offsets of one partition as the broker reports them (kafkajs gives strings). */
export interface TopicPartitionOffsets {
  partition: number;
  /** Log-start offset (first offset still stored). */
  low: string;
  /** Log-end offset (offset the next message will get). */
  high: string;
}

/** A consumer group's committed offset on one partition; "-1" when nothing is committed. */
export interface CommittedOffset {
  partition: number;
  offset: string;
}

export interface LagSnapshot {
  partitions: PartitionLag[];
  totalLag: number;
}

/** One answer of the broker: the lag, or that the topic does not exist (and so no lag). */
export type KafkaLagSample =
  ({ topicExists: true; group: KafkaLagGroup } & LagSnapshot) | { topicExists: false };

function toOffset(value: string, what: string): number {
  const offset = Number(value);
  if (!Number.isSafeInteger(offset)) {
    throw new Error(`${what} = ${JSON.stringify(value)}, expected an integer offset`);
  }
  return offset;
}

/**
 * Lag per partition = log-end offset − committed offset.
 *
 * A partition on which the group has committed nothing counts its whole stored log
 * (log-end − log-start): a consumer starting from the beginning has all of it to read. This is
 * what the group owes at most; with `fromBeginning: false` it would owe nothing, but the
 * broker cannot tell us which one the consumer will use.
 */
export function computePartitionLags(
  topicOffsets: readonly TopicPartitionOffsets[],
  committed: readonly CommittedOffset[]
): LagSnapshot {
  const committedByPartition = new Map(committed.map(c => [c.partition, c.offset]));
  const partitions = [...topicOffsets]
    .sort((a, b) => a.partition - b.partition)
    .map(({ partition, low, high }): PartitionLag => {
      const logEndOffset = toOffset(high, `partition ${partition} log-end offset`);
      const logStartOffset = toOffset(low, `partition ${partition} log-start offset`);
      const committedRaw = committedByPartition.get(partition) ?? '-1';
      const committedOffset = toOffset(committedRaw, `partition ${partition} committed offset`);
      const lag =
        committedOffset < 0
          ? logEndOffset - logStartOffset
          : Math.max(0, logEndOffset - committedOffset);
      return {
        partition,
        logEndOffset,
        committedOffset: committedOffset < 0 ? -1 : committedOffset,
        lag
      };
    });
  return { partitions, totalLag: partitions.reduce((sum, p) => sum + p.lag, 0) };
}

/** What the broker's DescribeGroups said of the group, and whether it committed on the topic. */
export function describeLagGroup(
  groupId: string,
  described: readonly { groupId: string; state: string }[],
  partitions: readonly PartitionLag[]
): KafkaLagGroup {
  // The broker answers for every group asked about; a group it does not know is "Dead".
  const state = described.find(group => group.groupId === groupId)?.state ?? 'Dead';
  return { state, hasCommittedOffsets: partitions.some(p => p.committedOffset >= 0) };
}

/**
 * Asks the broker for a group's lag on one topic. A topic the broker does not know is looked
 * for in the topic list first: asking for its offsets would fail, and kafkajs would log each
 * failure and retry it.
 */
export async function fetchKafkaLag(
  admin: Admin,
  topic: string,
  groupId: string
): Promise<KafkaLagSample> {
  const topics = await admin.listTopics();
  if (!topics.includes(topic)) return { topicExists: false };
  const [topicOffsets, groupOffsets, groups] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] }),
    admin.describeGroups([groupId])
  ]);
  const committed = groupOffsets.find(entry => entry.topic === topic)?.partitions ?? [];
  const lag = computePartitionLags(topicOffsets, committed);
  return {
    topicExists: true,
    ...lag,
    group: describeLagGroup(groupId, groups.groups, lag.partitions)
  };
}
