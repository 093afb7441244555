import { describe, expect, it } from 'vitest';
import {
  awaitsDecommission,
  daemonPid,
  executorCommandPattern
} from '../../../src/frameworks/spark/decommission.js';

describe('Spark decommissioning', () => {
  it("finds a daemon's pid in its log", () => {
    const log = '26/12/02 14:34:26 INFO Worker: Started daemon with process name: 3316@node4\n';
    expect(daemonPid(log)).toBe(3316);
    expect(daemonPid('26/12/02 INFO Worker: Starting Spark worker')).toBeUndefined();
  });

  it("matches exactly one executor's command line, of one worker", () => {
    const pattern = new RegExp(
      executorCommandPattern(
        { appId: 'app-20261202144902-0000', id: 3 },
        { host: '10.1.2.14', port: 42053 }
      )
    );
    const command = (id: number, worker: string): string =>
      `java -cp x org.apache.spark.executor.CoarseGrainedExecutorBackend --driver-url spark://CoarseGrainedScheduler@10.1.2.11:40001 --executor-id ${id} --hostname 10.1.2.14 --cores 2 --app-id app-20261202144902-0000 --worker-url spark://Worker@${worker} --resourceProfileId 0`;
    expect(pattern.test(command(3, '10.1.2.14:42053'))).toBe(true);
    expect(pattern.test(command(13, '10.1.2.14:42053'))).toBe(false);
    expect(pattern.test(command(3, '10.1.2.14:420531'))).toBe(false);
    // A dot is a dot: another address does not match.
    expect(pattern.test(command(3, '10x1.2.14:42053'))).toBe(false);
  });

  it('signals an executor only once it handles SIGPWR and until it has been told', () => {
    expect(awaitsDecommission('INFO CoarseGrainedExecutorBackend: Started daemon')).toBe(false);
    const ready =
      'INFO CoarseGrainedExecutorBackend: Registering SIGPWR handler to trigger decommissioning.';
    expect(awaitsDecommission(ready)).toBe(true);
    expect(
      awaitsDecommission(`${ready}\nINFO CoarseGrainedExecutorBackend: Decommission executor 3.`)
    ).toBe(false);
  });
});
