import { performance } from 'node:perf_hooks';
import type { Kafka } from 'kafkajs';

/**
 * Seconds one producer takes to send `messages` messages of `messageBytes` to a fresh topic of
 * `partitions`, `batch` per request, each request acknowledged by every in-sync replica. With
 * `warmUp`, a first untimed request opens the connections (and does any TLS handshakes).
 */
export async function timeProducer(
  kafka: Kafka,
  options: {
    topic: string;
    partitions: number;
    messages: number;
    messageBytes: number;
    batch: number;
    idempotent: boolean;
    warmUp: boolean;
  }
): Promise<number> {
  const { topic, batch } = options;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: options.partitions }],
      waitForLeaders: true
    });
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer({ idempotent: options.idempotent });
  await producer.connect();
  try {
    const value = Buffer.alloc(options.messageBytes, 'x');
    const messages = Array.from({ length: batch }, () => ({ value }));
    if (options.warmUp) await producer.send({ topic, acks: -1, messages });
    const started = performance.now();
    for (let sent = 0; sent < options.messages; sent += batch) {
      await producer.send({ topic, acks: -1, messages });
    }
    return (performance.now() - started) / 1000;
  } finally {
    await producer.disconnect();
  }
}
