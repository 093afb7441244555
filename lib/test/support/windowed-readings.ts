import type { Kafka } from 'kafkajs';
import type { FlinkContext } from '../../src/frameworks/index.js';
import type { FrameworkDetails } from '../../src/protocol/index.js';

/** Tumbling windows of this length (ms), as the query below groups them. */
const WINDOW_MS = 10_000;

/**
 * Writes windows of known sizes to a new topic of `topic`'s name: message i carries i, and its
 * Kafka timestamp puts it in its window (ten-second windows, ending before now).
 */
export async function produceWindowedReadings(
  kafka: Kafka,
  topic: string,
  sizes: readonly number[]
): Promise<void> {
  const firstWindow = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS - sizes.length * WINDOW_MS;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
  await admin.disconnect();
  const producer = kafka.producer();
  await producer.connect();
  let next = 0;
  for (const [window, size] of sizes.entries()) {
    const messages = Array.from({ length: size }, (_, i) => ({
      value: String(next + i),
      timestamp: String(firstWindow + window * WINDOW_MS + Math.floor((i * WINDOW_MS) / size))
    }));
    for (let start = 0; start < size; start += 500) {
      await producer.send({ topic, messages: messages.slice(start, start + 500) });
    }
    next += size;
  }
  await producer.disconnect();
}

/**
 * Counts the topic's windows with Flink SQL over the Kafka connector: each window's
 * [count, sum, first, last] of the readings, in window order.
 */
export async function countWindows(
  context: FlinkContext,
  kafkaPilot: { id: string; details?: FrameworkDetails; workDir?: string },
  topic: string
): Promise<unknown[][]> {
  await context.kafkaTable(
    topic,
    "reading STRING, ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp', WATERMARK FOR ts AS ts",
    { pilot: kafkaPilot, topic }
  );
  const { rows } = await context.sql(
    `SELECT count(*) AS n, sum(CAST(reading AS BIGINT)) AS total,
            min(CAST(reading AS BIGINT)) AS first, max(CAST(reading AS BIGINT)) AS last
       FROM TABLE(TUMBLE(TABLE \`${topic}\`, DESCRIPTOR(ts), INTERVAL '10' SECOND))
      GROUP BY window_start, window_end`,
    { executionConfig: { 'execution.runtime-mode': 'batch' } }
  );
  return [...rows].sort((a, b) => (a[2] as number) - (b[2] as number));
}

/** What countWindows must find for windows of `sizes`. */
export function expectedWindows(sizes: readonly number[]): number[][] {
  let first = 0;
  return sizes.map(size => {
    const last = first + size - 1;
    const row = [size, ((first + last) * size) / 2, first, last];
    first += size;
    return row;
  });
}
