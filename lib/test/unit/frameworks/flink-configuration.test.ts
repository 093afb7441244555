import { describe, expect, it } from 'vitest';
import {
  FLINK_JAVA_MODULE_OPTIONS,
  flinkConfigurationProblems,
  flinkOptions,
  renderConfigYaml
} from '../../../src/frameworks/flink/configuration.js';
import { ValidationError } from '../../../src/protocol/index.js';

const stores = {
  keyStore: '/home/ada/pilot-1/flink/tls/keystore.p12',
  trustStore: '/home/ada/pilot-1/flink/tls/truststore.p12',
  password: 'Zm9vYmFy-random_password'
};

describe("a Flink pilot's configuration", () => {
  it('takes Flink options of the user, refusing those the pilot sets, naming key, value and why', () => {
    expect(
      flinkConfigurationProblems({
        'taskmanager.memory.process.size': '2g',
        'table.exec.resource.default-parallelism': 4,
        'pipeline.object-reuse': true,
        'env.java.opts.taskmanager': '-XX:+UseG1GC'
      })
    ).toEqual([]);
    const problems = flinkConfigurationProblems({
      'security.ssl.rest.enabled': false,
      'security.ssl': 'off',
      'rest.port': 8081,
      'jobmanager.rpc.port': 6123,
      'sql-gateway.endpoint.rest.bind-address': '0.0.0.0',
      'metrics.reporter.prom.factory.class': 'PrometheusReporterFactory',
      'taskmanager.data.ssl.enabled': false,
      'env.java.opts.all': '-Xmx1g',
      'env.pid.dir': '/tmp',
      'execution.target': 'local'
    });
    expect(problems.map(problem => problem.key)).toEqual([
      'configuration.security.ssl.rest.enabled',
      'configuration.security.ssl',
      'configuration.rest.port',
      'configuration.jobmanager.rpc.port',
      'configuration.sql-gateway.endpoint.rest.bind-address',
      'configuration.metrics.reporter.prom.factory.class',
      'configuration.taskmanager.data.ssl.enabled',
      'configuration.env.java.opts.all',
      'configuration.env.pid.dir',
      'configuration.execution.target'
    ]);
    expect(problems[0]).toEqual({
      key: 'configuration.security.ssl.rest.enabled',
      value: false,
      expected: expect.stringMatching(/^no value: the pilot sets security\.ssl\.\* itself/)
    });
    expect(problems[2]!.expected).toMatch(/the pilot sets rest\.port itself/);
  });

  it('refuses what is no Flink option key, and values on several lines', () => {
    expect(
      flinkConfigurationProblems({
        'spark.executor.memory': '1g',
        parallelism: 2,
        'pipeline.name': 'two\nlines'
      })
    ).toEqual([
      {
        key: 'configuration.parallelism',
        value: 2,
        expected: expect.stringMatching(/^a Flink option, e\.g\./)
      },
      { key: 'configuration.pipeline.name', value: 'two\nlines', expected: 'a single-line value' }
    ]);
  });

  it("puts the user's options over the defaults and the pilot's settings over both", () => {
    const options = flinkOptions({
      address: '10.0.0.5',
      stores,
      slotsPerTaskManager: 4,
      configuration: { 'taskmanager.memory.process.size': '4g', 'pipeline.name': 'mine' }
    });
    expect(options).toMatchObject({
      'taskmanager.memory.process.size': '4g',
      'jobmanager.memory.process.size': '1024m',
      'taskmanager.numberOfTaskSlots': 4,
      'pipeline.name': 'mine',
      'jobmanager.rpc.address': '10.0.0.5',
      'jobmanager.bind-host': '10.0.0.5',
      'jobmanager.rpc.port': 0,
      'rest.bind-address': '10.0.0.5',
      'rest.port': 0,
      'sql-gateway.endpoint.rest.bind-address': '10.0.0.5',
      'sql-gateway.endpoint.rest.port': 0,
      'security.ssl.internal.enabled': true,
      'security.ssl.rest.enabled': true,
      'security.ssl.rest.authentication-enabled': true,
      'security.ssl.internal.keystore': stores.keyStore,
      'security.ssl.rest.truststore-password': stores.password,
      'env.java.opts.all': FLINK_JAVA_MODULE_OPTIONS.join(' ')
    });
    // No address is left to Flink's default (all interfaces).
    expect(Object.values(options)).not.toContain('0.0.0.0');
    expect(() =>
      flinkOptions({
        address: '10.0.0.5',
        stores,
        slotsPerTaskManager: 1,
        configuration: { 'security.ssl.internal.enabled': false }
      })
    ).toThrow(ValidationError);
  });

  it('renders config.yaml one flattened key a line, strings quoted so that none is misread', () => {
    const yaml = renderConfigYaml(
      {
        'rest.port': 0,
        'security.ssl.rest.enabled': true,
        'pipeline.name': 'yes: "quoted" # not a comment',
        'env.java.opts.all': '--add-opens=java.base/java.lang=ALL-UNNAMED'
      },
      'Written by the pilot.\nSecrets inside.'
    );
    expect(yaml).toBe(
      [
        '# Written by the pilot.',
        '# Secrets inside.',
        'rest.port: 0',
        'security.ssl.rest.enabled: true',
        'pipeline.name: "yes: \\"quoted\\" # not a comment"',
        'env.java.opts.all: "--add-opens=java.base/java.lang=ALL-UNNAMED"',
        ''
      ].join('\n')
    );
    expect(() => renderConfigYaml({ 'bad key: x': 1 }, '')).toThrow(
      /"bad key: x" is not a Flink option key/
    );
    expect(() => renderConfigYaml({ 'rest.port': Number.NaN }, '')).toThrow(
      /rest\.port = NaN: expected a finite number/
    );
  });
});
