import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  flinkScriptEnvironment,
  quoteJavaOption
} from '../../../src/frameworks/flink/environment.js';
import { loggedRestEndpoint, loggedRpcEndpoint } from '../../../src/frameworks/flink/log-lines.js';

describe("Flink's logged endpoints", () => {
  const jobManagerLog = [
    '2026-12-02 13:35:01,312 INFO  org.apache.flink.runtime.rpc.pekko.PekkoRpcServiceUtils      [] - Trying to start actor system, external address 127.0.0.1:0, bind address 127.0.0.1:0.',
    '2026-12-02 13:35:01,312 INFO  org.apache.flink.runtime.rpc.pekko.PekkoRpcServiceUtils      [] - Actor system started at pekko.ssl.tcp://flink@127.0.0.1:33491',
    '2026-12-02 13:35:03,035 INFO  org.apache.flink.runtime.rpc.pekko.PekkoRpcServiceUtils      [] - Actor system started at pekko.ssl.tcp://flink-metrics@127.0.0.1:42043',
    '2026-12-02 13:35:04,048 INFO  org.apache.flink.runtime.dispatcher.DispatcherRestEndpoint   [] - Rest endpoint listening at 127.0.0.1:44051',
    ''
  ].join('\n');

  it("finds the JobManager's RPC and REST ports once it has bound them", () => {
    expect(loggedRpcEndpoint(jobManagerLog)).toEqual({ host: '127.0.0.1', port: 33491 });
    expect(loggedRestEndpoint(jobManagerLog)).toEqual({ host: '127.0.0.1', port: 44051 });
    // Only the metrics' actor system so far, or nothing: not yet.
    const early = jobManagerLog
      .split('\n')
      .filter(line => !line.includes('flink@'))
      .join('\n');
    expect(loggedRpcEndpoint(early)).toBeUndefined();
    expect(
      loggedRestEndpoint('Starting standalonesession as a console application')
    ).toBeUndefined();
    expect(loggedRestEndpoint('... - Rest endpoint listening at [fd00::5]:8083\n')).toEqual({
      host: '[fd00::5]',
      port: 8083
    });
  });
});

describe("the environment of Flink's scripts", () => {
  afterEach(() => vi.unstubAllEnvs());

  it("points them at the pilot's directories, and every JVM at its temporary directory", () => {
    vi.stubEnv('TMPDIR', '/home/ada/pilot-1/tmp');
    const env = flinkScriptEnvironment({
      confDir: '/home/ada/pilot-1/flink/conf',
      logDir: '/home/ada/pilot-1/flink/log',
      pidDir: '/home/ada/pilot-1/flink/run',
      ident: 'pilot-1',
      base: {
        PATH: '/usr/bin',
        FLINK_ENV_JAVA_OPTS: '-Xmx64m',
        FLINK_HOME: '/opt/other-flink',
        JDK_JAVA_OPTIONS: '-Duser.timezone=UTC'
      }
    });
    expect(env).toEqual({
      PATH: '/usr/bin',
      FLINK_CONF_DIR: '/home/ada/pilot-1/flink/conf',
      FLINK_LOG_DIR: '/home/ada/pilot-1/flink/log',
      FLINK_PID_DIR: '/home/ada/pilot-1/flink/run',
      FLINK_IDENT_STRING: 'pilot-1',
      JDK_JAVA_OPTIONS:
        '-XX:-UsePerfData -Djava.io.tmpdir=/home/ada/pilot-1/tmp -Duser.timezone=UTC'
    });
  });

  it('quotes an option with white space the way the Java launcher splits JDK_JAVA_OPTIONS', () => {
    expect(quoteJavaOption('-Djava.io.tmpdir=/home/ada/my pilot/tmp')).toBe(
      '"-Djava.io.tmpdir=/home/ada/my pilot/tmp"'
    );
    expect(quoteJavaOption('-Djava.io.tmpdir=/home/ada/"odd" dir')).toBe(
      `'-Djava.io.tmpdir=/home/ada/"odd" dir'`
    );
    expect(() => quoteJavaOption(`-Dx=/a "b" 'c'`)).toThrow(/holds both kinds of quotes/);
    expect(quoteJavaOption('-XX:-UsePerfData')).toBe('-XX:-UsePerfData');
  });
});
