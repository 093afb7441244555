import type { Admin } from 'kafkajs';
import type { PartitionLag } from '../protocol/index.js';

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

/** Asks the broker for a group's lag on one topic. */
export async function fetchKafkaLag(
  admin: Admin,
  topic: string,
  groupId: string
): Promise<LagSnapshot> {
  const [topicOffsets, groupOffsets] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId, topics: [topic] })
  ]);
  const committed = groupOffsets.find(entry => entry.topic === topic)?.partitions ?? [];
  return computePartitionLags(topicOffsets, committed);
}
