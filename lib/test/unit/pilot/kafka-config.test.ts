import { describe, expect, it } from 'vitest';
import {
  heapOf,
  kafkaConfigurationProblems,
  renderServerProperties,
  securityOf
} from '../../../src/frameworks/kafka/server-config.js';
import { newClusterId } from '../../../src/frameworks/kafka/bootstrap.js';

function parseProperties(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const equals = line.indexOf('=');
    map.set(line.slice(0, equals), line.slice(equals + 1));
  }
  return map;
}

describe('Kafka server configuration', () => {
  it('writes a combined-mode KRaft broker on loopback with the chosen ports and directory', () => {
    const properties = parseProperties(
      renderServerProperties({
        nodeId: 1,
        roles: 'broker,controller',
        host: '127.0.0.1',
        brokerPort: 40001,
        controllerPort: 40002,
        voters: [{ nodeId: 1, host: '127.0.0.1', port: 40002 }],
        dataDir: '/data/x',
        configuration: {
          'num.partitions': 3,
          'auto.create.topics.enable': false,
          'pilot.heap': '1g'
        }
      })
    );
    expect(properties.get('process.roles')).toBe('broker,controller');
    expect(properties.get('listeners')).toBe(
      'PLAINTEXT://127.0.0.1:40001,CONTROLLER://127.0.0.1:40002'
    );
    expect(properties.get('advertised.listeners')).toBe('PLAINTEXT://127.0.0.1:40001');
    expect(properties.get('controller.quorum.voters')).toBe('1@127.0.0.1:40002');
    expect(properties.get('log.dirs')).toBe('/data/x');
    expect(properties.get('offsets.topic.replication.factor')).toBe('1');
    // Pass-through overrides our defaults; pilot options stay out of Kafka's file.
    expect(properties.get('num.partitions')).toBe('3');
    expect(properties.get('auto.create.topics.enable')).toBe('false');
    expect(properties.has('pilot.heap')).toBe(false);
  });

  it('writes a three-node quorum and a broker-only node that joins it', () => {
    const voters = [1, 2, 3].map(nodeId => ({ nodeId, host: `10.0.0.${nodeId}`, port: 9093 }));
    const controller = parseProperties(
      renderServerProperties({
        nodeId: 2,
        roles: 'broker,controller',
        host: '10.0.0.2',
        brokerPort: 9092,
        controllerPort: 9093,
        voters,
        dataDir: '/d',
        configuration: {}
      })
    );
    expect(controller.get('node.id')).toBe('2');
    expect(controller.get('controller.quorum.voters')).toBe(
      '1@10.0.0.1:9093,2@10.0.0.2:9093,3@10.0.0.3:9093'
    );
    const broker = parseProperties(
      renderServerProperties({
        nodeId: 4,
        roles: 'broker',
        host: '10.0.0.4',
        brokerPort: 9092,
        voters,
        dataDir: '/d',
        configuration: {}
      })
    );
    expect(broker.get('process.roles')).toBe('broker');
    expect(broker.get('listeners')).toBe('PLAINTEXT://10.0.0.4:9092');
    expect(broker.get('controller.quorum.voters')).toBe(controller.get('controller.quorum.voters'));
    expect(() =>
      renderServerProperties({
        nodeId: 5,
        roles: 'broker,controller',
        host: 'h',
        brokerPort: 1,
        voters,
        dataDir: '/d',
        configuration: {}
      })
    ).toThrow(/no controller port/);
  });

  it('escapes backslashes', () => {
    const text = renderServerProperties({
      nodeId: 1,
      roles: 'broker,controller',
      host: '127.0.0.1',
      brokerPort: 1,
      controllerPort: 2,
      voters: [{ nodeId: 1, host: '127.0.0.1', port: 2 }],
      dataDir: 'C:\\data',
      configuration: {}
    });
    expect(text).toContain('log.dirs=C:\\\\data');
  });

  it('secures every listener with mutual TLS from the pilot TLS directory', () => {
    const properties = parseProperties(
      renderServerProperties({
        nodeId: 1,
        roles: 'broker,controller',
        host: '10.0.0.1',
        brokerPort: 9092,
        controllerPort: 9093,
        voters: [{ nodeId: 1, host: '10.0.0.1', port: 9093 }],
        dataDir: '/d',
        configuration: {},
        tlsDir: '/home/user/pilots/p/kafka/tls'
      })
    );
    expect(properties.get('listeners')).toBe('SSL://10.0.0.1:9092,CONTROLLER://10.0.0.1:9093');
    expect(properties.get('advertised.listeners')).toBe('SSL://10.0.0.1:9092');
    expect(properties.get('inter.broker.listener.name')).toBe('SSL');
    expect(properties.get('listener.security.protocol.map')).toBe('SSL:SSL,CONTROLLER:SSL');
    expect(properties.get('ssl.client.auth')).toBe('required');
    expect(properties.get('ssl.keystore.type')).toBe('PEM');
    expect(properties.get('ssl.keystore.location')).toBe(
      '/home/user/pilots/p/kafka/tls/broker.pem'
    );
    expect(properties.get('ssl.truststore.type')).toBe('PEM');
    expect(properties.get('ssl.truststore.location')).toBe('/home/user/pilots/p/kafka/tls/ca.pem');
    // A client setting: the broker has none, and no password of a store is written.
    expect(properties.has('security.protocol')).toBe(false);
    expect([...properties.keys()].filter(key => key.includes('password'))).toEqual([]);
  });

  it('takes pilot.security "tls" or "plaintext" only, and TLS when it is absent', () => {
    expect(kafkaConfigurationProblems({ 'pilot.security': 'plaintext' })).toEqual([]);
    expect(kafkaConfigurationProblems({ 'pilot.security': 'tls' })).toEqual([]);
    expect(securityOf({})).toBe('tls');
    expect(securityOf({ 'pilot.security': 'plaintext' })).toBe('plaintext');
    expect(kafkaConfigurationProblems({ 'pilot.security': 'PLAINTEXT' })).toEqual([
      {
        key: 'configuration.pilot.security',
        value: 'PLAINTEXT',
        expected: '"tls" or "plaintext" (default "tls")'
      }
    ]);
    expect(kafkaConfigurationProblems({ 'pilot.securty': 'plaintext' })).toEqual([
      {
        key: 'configuration.pilot.securty',
        value: 'plaintext',
        expected: 'a known pilot option (pilot.heap, pilot.security)'
      }
    ]);
  });

  it.each([
    ['ssl.keystore.location', '/elsewhere.jks'],
    ['ssl.truststore.location', '/elsewhere.pem'],
    ['ssl.client.auth', 'none'],
    ['security.inter.broker.protocol', 'PLAINTEXT']
  ])('rejects the TLS key %s the pilot sets itself', (key, value) => {
    expect(kafkaConfigurationProblems({ [key]: value })).toEqual([
      {
        key: `configuration.${key}`,
        value,
        expected: expect.stringMatching(/sets this key itself/) as unknown
      }
    ]);
  });

  it('accepts ordinary Kafka keys and a heap size', () => {
    expect(kafkaConfigurationProblems({ 'num.partitions': 3, 'pilot.heap': '768m' })).toEqual([]);
    expect(heapOf({ 'pilot.heap': '768m' })).toBe('768m');
    expect(heapOf({})).toBe('512m');
  });

  it.each([
    ['listeners', 'PLAINTEXT://:9092'],
    ['node.id', 2],
    ['log.dirs', '/tmp/kafka-logs'],
    ['controller.quorum.voters', '1@x:1'],
    ['process.roles', 'broker']
  ])('rejects the reserved key %s', (key, value) => {
    expect(kafkaConfigurationProblems({ [key]: value })).toEqual([
      {
        key: `configuration.${key}`,
        value,
        expected: expect.stringMatching(/sets this key itself/) as unknown
      }
    ]);
  });

  it('suggests the Kafka key a misspelt one was meant to be', () => {
    const cases: [string, string][] = [
      ['num.partitons', 'num.partitions'],
      ['log.retention.hour', 'log.retention.hours'],
      ['auto.create.topic.enable', 'auto.create.topics.enable'],
      ['Num.Partitions', 'num.partitions']
    ];
    for (const [typo, meant] of cases) {
      const [problem] = kafkaConfigurationProblems({ [typo]: '1' });
      expect(problem, typo).toMatchObject({ key: `configuration.${typo}` });
      expect(problem!.expected, typo).toContain(`did you mean "${meant}"`);
    }
  });

  it("checks values against the type and range of Kafka's broker setting", () => {
    expect(
      kafkaConfigurationProblems({
        'num.partitions': ' 12 ',
        'log.retention.ms': '-1',
        'log.segment.bytes': 1073741824,
        'auto.create.topics.enable': 'TRUE',
        'log.cleanup.policy': 'compact,delete',
        'compression.type': 'zstd',
        'log.cleaner.min.cleanable.ratio': '0.25',
        'sasl.oauthbearer.jwks.endpoint.url': 'https://issuer.example.org/jwks'
      })
    ).toEqual([]);
    const expected = (configuration: Record<string, string | number | boolean>) =>
      kafkaConfigurationProblems(configuration).map(problem => problem.expected);
    expect(expected({ 'num.partitions': '3.5' })).toEqual([expect.stringMatching(/an integer/)]);
    expect(expected({ 'num.partitions': '2147483648' })).toEqual([
      expect.stringMatching(/an integer/)
    ]);
    expect(expected({ 'log.segment.bytes': '1k' })).toEqual([expect.stringMatching(/an integer/)]);
    expect(expected({ 'log.cleaner.min.cleanable.ratio': '2' })).toEqual([
      expect.stringMatching(/at most 1/)
    ]);
    expect(expected({ 'compression.type': 'ZSTD' })).toEqual([
      expect.stringMatching(/one of uncompressed, zstd/)
    ]);
    expect(expected({ 'log.cleanup.policy': 'compact,shred' })).toEqual([
      expect.stringMatching(/compact, delete/)
    ]);
  });

  it('lets unknown keys through to a plug-in the configuration names, as Kafka hands them on', () => {
    expect(kafkaConfigurationProblems({ 'super.users': 'User:admin' })).toEqual([
      expect.objectContaining({ key: 'configuration.super.users' })
    ]);
    expect(
      kafkaConfigurationProblems({
        'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
        'super.users': 'User:admin'
      })
    ).toEqual([]);
    // Even then a near miss of a broker key is a typo, not a plug-in's setting.
    expect(
      kafkaConfigurationProblems({ 'metric.reporters': 'com.example.Reporter', 'num.partitons': 2 })
    ).toEqual([expect.objectContaining({ key: 'configuration.num.partitons' })]);
  });

  it('accepts per-listener overrides of known keys', () => {
    expect(kafkaConfigurationProblems({ 'listener.name.plaintext.max.connections': 100 })).toEqual(
      []
    );
    expect(kafkaConfigurationProblems({ 'listener.name.plaintext.max.conections': 100 })).toEqual([
      expect.objectContaining({ key: 'configuration.listener.name.plaintext.max.conections' })
    ]);
  });

  it('makes Kafka-style cluster ids', () => {
    for (let i = 0; i < 100; i++) {
      const id = newClusterId();
      expect(id).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    }
  });
});
