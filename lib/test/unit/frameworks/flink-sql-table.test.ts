import { describe, expect, it } from 'vitest';
import { kafkaTableOptions, withClause } from '../../../src/frameworks/flink/kafka-table.js';
import type { KafkaDetails } from '../../../src/protocol/index.js';

const kafka: KafkaDetails = {
  type: 'kafka',
  bootstrapServers: ['node-1:40001', 'node-2:40002'],
  brokers: [],
  clusterId: 'c',
  kafkaVersion: '4.3.1',
  security: 'tls'
};

describe("a Flink table over a Kafka pilot's topic", () => {
  it("names the pilot's brokers and TLS files (paths only), bounded by default", () => {
    const options = kafkaTableOptions(
      { id: 'pilot-k', details: kafka, workDir: '/home/ada/pilots/pilot-k' },
      'readings'
    );
    expect(options).toMatchObject({
      connector: 'kafka',
      topic: 'readings',
      'properties.bootstrap.servers': 'node-1:40001,node-2:40002',
      'scan.startup.mode': 'earliest-offset',
      'scan.bounded.mode': 'latest-offset',
      'properties.security.protocol': 'SSL',
      'properties.ssl.truststore.location': expect.stringMatching(
        /^\/home\/ada\/pilots\/pilot-k\//
      ),
      'properties.ssl.keystore.location': expect.stringMatching(/^\/home\/ada\/pilots\/pilot-k\//)
    });
    const unbounded = kafkaTableOptions(
      { id: 'pilot-k', details: { ...kafka, security: 'plaintext' } },
      'readings',
      { bounded: false }
    );
    expect(unbounded['scan.bounded.mode']).toBeUndefined();
    expect(unbounded['properties.security.protocol']).toBeUndefined();
  });

  it('refuses a pilot that is not a Running Kafka pilot, or one without its work directory', () => {
    expect(() => kafkaTableOptions({ id: 'pilot-x' }, 't')).toThrow(
      'pilot pilot-x is not a Running Kafka pilot'
    );
    expect(() => kafkaTableOptions({ id: 'pilot-k', details: kafka }, 't')).toThrow(
      'names no work directory'
    );
  });

  it('quotes keys and values as SQL string literals', () => {
    expect(withClause({ topic: "it's", 'a.b': 'c' })).toBe(
      "WITH (\n  'topic' = 'it''s',\n  'a.b' = 'c'\n)"
    );
  });
});
