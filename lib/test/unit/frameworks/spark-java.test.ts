import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  executorDefaultJavaOptions,
  sparkJavaArgs,
  startedServicePort
} from '../../../src/frameworks/spark/java.js';

describe('Spark JVM launch', () => {
  it("finds a service's port in Spark's log once it has started", () => {
    const log = [
      "26/12/02 10:26:35 INFO Utils: Successfully started service 'sparkDriver' on port 46203.",
      "26/12/02 10:26:38 INFO Utils: Successfully started service 'org.apache.spark.sql.connect.service.SparkConnectService' on port 44861."
    ].join('\n');
    expect(startedServicePort(log, 'sparkDriver')).toBe(46203);
    expect(
      startedServicePort(log, 'org.apache.spark.sql.connect.service.SparkConnectService')
    ).toBe(44861);
    expect(startedServicePort(log, 'sparkMaster')).toBeUndefined();
    // A dot in the name is a dot, not any character.
    expect(
      startedServicePort(
        log.replace('sql.connect', 'sqlXconnect'),
        'org.apache.spark.sql.connect.service.SparkConnectService'
      )
    ).toBeUndefined();
  });

  it('runs the class with the module options, the heap and the class path before it', () => {
    const args = sparkJavaArgs({
      distribution: {
        version: '4.2.0',
        libDir: '/c/spark/4.2.0/libs',
        classPath: '/c/spark/4.2.0/libs/*'
      },
      mainClass: 'org.apache.spark.deploy.master.Master',
      args: ['--port', '0'],
      heapMb: 512
    });
    expect(args).toContain('--add-opens=java.base/sun.nio.ch=ALL-UNNAMED');
    // Temporary files in TMPDIR (the pilot's), not the JVM's default /tmp; no hsperfdata.
    expect(args).toContain('-XX:-UsePerfData');
    expect(args).toContain(`-Djava.io.tmpdir=${process.env.TMPDIR ?? '/tmp'}`);
    expect(args.slice(-6)).toEqual([
      '-Xmx512m',
      '-cp',
      '/c/spark/4.2.0/libs/*',
      'org.apache.spark.deploy.master.Master',
      '--port',
      '0'
    ]);
  });

  afterEach(() => vi.unstubAllEnvs());

  it("gives executors the pilot's temporary directory, quoted the way Spark splits options", () => {
    vi.stubEnv('TMPDIR', '/home/ada/pilot-1/tmp');
    expect(executorDefaultJavaOptions()).toBe(
      '-XX:-UsePerfData -Djava.io.tmpdir=/home/ada/pilot-1/tmp'
    );
    vi.stubEnv('TMPDIR', "/home/ada/Bob's pilot/tmp");
    expect(executorDefaultJavaOptions()).toBe(
      `-XX:-UsePerfData '-Djava.io.tmpdir=/home/ada/Bob'"'"'s pilot/tmp'`
    );
  });
});
