import type { PilotState } from './states.js';

/** MIME type of the live Kafka consumer-lag widget. */
export const KAFKA_LAG_MIME_TYPE = 'application/vnd.pilot-streaming.kafka-lag.v1+json';

export interface PartitionLag {
  partition: number;
  logEndOffset: number;
  /** -1 when the group has committed nothing on this partition yet. */
  committedOffset: number;
  /** logEndOffset - committedOffset (the whole log when nothing is committed). */
  lag: number;
}

export interface LagSample {
  /** Milliseconds since the epoch. */
  t: number;
  totalLag: number;
}

/** The consumer group as the broker describes it. */
export interface KafkaLagGroup {
  /**
   * The broker's state of the group: "Dead" when there is no such group (no member and no
   * committed offset), "Empty" when it has offsets but no member, "Stable",
   * "PreparingRebalance" or "CompletingRebalance" while consumers are in it.
   */
  state: string;
  /** Whether the group has committed an offset on at least one partition of the topic. */
  hasCommittedOffsets: boolean;
}

/**
 * The widget's whole state; every update carries all of it (small, and idempotent to render).
 * Fields marked optional were added later: a view without them renders as before.
 */
export interface KafkaLagView {
  pilotId: string;
  topic: string;
  groupId: string;
  partitions: PartitionLag[];
  totalLag: number;
  /** Recent total-lag samples, oldest first (bounded). */
  history: LagSample[];
  /** ISO time of the latest sample. */
  updatedAt: string;
  /** Set while sampling fails; the last good numbers stay. */
  error?: string;
  /** True once monitoring has stopped (pilot gone, or stopped by the user). */
  stopped?: boolean;
  /**
   * False while the broker does not know the topic (no partitions then; the monitor keeps
   * looking, more slowly, so that the lag appears once the topic is created). Absent before the
   * first answer.
   */
  topicExists?: boolean;
  /** The group as the broker describes it; absent before the first answer and without a topic. */
  group?: KafkaLagGroup;
  /** With `stopped`: the pilot ended in this state, and so did monitoring. */
  pilotEnded?: PilotState;
}
