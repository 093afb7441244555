import { posix } from 'node:path';
import type { FrameworkDetails } from '../../protocol/index.js';
import { clientProperties, TLS_DIR } from '../kafka/tls.js';

/**
 * The options of a Flink SQL table over a Kafka pilot's topic, read from its earliest offsets
 * to the latest ones at the start of the query (a bounded table: a query over it ends). Flink's
 * Kafka clients read the Kafka pilot's TLS files where the TaskManagers run (both pilots on the
 * same resource, whose nodes share the file system): only paths go into the statement, never a
 * key. A table's `format` (and its options) come from the caller.
 */
export function kafkaTableOptions(
  record: { id: string; details?: FrameworkDetails; workDir?: string },
  topic: string,
  options: { bounded?: boolean } = {}
): Record<string, string> {
  const { details, workDir } = record;
  if (details?.type !== 'kafka') {
    throw new Error(`pilot ${record.id} is not a Running Kafka pilot: no Kafka to read from`);
  }
  const table: Record<string, string> = {
    connector: 'kafka',
    topic,
    'properties.bootstrap.servers': details.bootstrapServers.join(','),
    'scan.startup.mode': 'earliest-offset',
    ...(options.bounded !== false ? { 'scan.bounded.mode': 'latest-offset' } : {})
  };
  if (details.security === 'tls') {
    if (workDir === undefined) {
      throw new Error(`pilot ${record.id} listens TLS but its record names no work directory`);
    }
    // The settings Kafka's own tools use with the pilot's files, as Kafka client properties.
    for (const [key, value] of Object.entries(clientProperties(posix.join(workDir, TLS_DIR)))) {
      table[`properties.${key}`] = value;
    }
  }
  return table;
}

/** A string as a Flink SQL literal ('…', quotes doubled). */
export function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Table options as the WITH clause of a CREATE TABLE. */
export function withClause(options: Record<string, string>): string {
  const entries = Object.entries(options).map(
    ([key, value]) => `  ${sqlString(key)} = ${sqlString(value)}`
  );
  return `WITH (\n${entries.join(',\n')}\n)`;
}
