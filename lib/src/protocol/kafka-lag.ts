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

/** The widget's whole state; every update carries all of it (small, and idempotent to render). */
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
}
