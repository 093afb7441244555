import { posix } from 'node:path';
import type { FrameworkDetails } from '../../protocol/index.js';
import { clientProperties, TLS_DIR } from '../kafka/tls.js';
import type { SparkDataSource } from './connect-client.js';

/**
 * A Kafka pilot's topic as a Spark batch source, read from its earliest to its latest offsets.
 * Spark's executors read the Kafka pilot's TLS files where they run (so both pilots must be on
 * the same resource, whose nodes share the file system): only paths go into the query, never a
 * key.
 */
export function kafkaTopicSource(
  record: { id: string; details?: FrameworkDetails; workDir?: string },
  topic: string
): SparkDataSource {
  const { details, workDir } = record;
  if (details?.type !== 'kafka') {
    throw new Error(`pilot ${record.id} is not a Running Kafka pilot: no Kafka to read from`);
  }
  const options: Record<string, string> = {
    'kafka.bootstrap.servers': details.bootstrapServers.join(','),
    subscribe: topic,
    startingOffsets: 'earliest',
    endingOffsets: 'latest'
  };
  if (details.security === 'tls') {
    if (workDir === undefined) {
      throw new Error(`pilot ${record.id} listens TLS but its record names no work directory`);
    }
    // The settings Kafka's own tools use with the pilot's files, as Kafka source options.
    for (const [key, value] of Object.entries(clientProperties(posix.join(workDir, TLS_DIR)))) {
      options[`kafka.${key}`] = value;
    }
  }
  return { format: 'kafka', options };
}
