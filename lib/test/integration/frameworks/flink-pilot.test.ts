import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startDashboardProxy } from '../../../src/dashboards/dashboard-proxy.js';
import { FLINK_CONF_DIR, FLINK_DIR } from '../../../src/frameworks/flink/bootstrap.js';
import {
  FLINK_VERSION,
  FlinkRestError,
  kafkaTableOptions,
  type FlinkContext
} from '../../../src/frameworks/index.js';
import type { Pilot } from '../../../src/pilot/index.js';
import { dashboardPath, type FlinkDetails } from '../../../src/protocol/index.js';
import { smallKafkaPilot } from '../../support/small-kafka.js';
import { getOverSocket } from '../../support/unix-http.js';
import { until } from '../../support/until.js';
import {
  countWindows,
  expectedWindows,
  produceWindowedReadings
} from '../../support/windowed-readings.js';
import {
  listeningSockets,
  processesMentioning,
  usePilotTestHome,
  withDescendants
} from '../../support/pilot-home.js';

/** A JobManager, a TaskManager and the gateway (and a Kafka pilot) start on a couple of cores. */
const RUNNING_TIMEOUT_MS = 300_000;

// One Flink pilot (and a Kafka pilot to read) serve the tests of this block, in order.
describe('a Flink pilot on fork://localhost', () => {
  const test = usePilotTestHome('file');
  let pilot: Pilot;
  let kafkaPilot: Pilot;
  let listenersBefore: string[];

  beforeAll(async () => {
    listenersBefore = await listeningSockets();
    [kafkaPilot, pilot] = await Promise.all([
      test.service.createPilot({ ...smallKafkaPilot, name: 'source' }),
      test.service.createPilot({
        type: 'flink',
        resource: 'fork://localhost',
        name: 'flink',
        walltimeMinutes: 20,
        configuration: { 'table.exec.resource.default-parallelism': 2 }
      })
    ]);
    await Promise.all([
      kafkaPilot.wait('Running', { timeoutMs: RUNNING_TIMEOUT_MS }),
      pilot.wait('Running', { timeoutMs: RUNNING_TIMEOUT_MS })
    ]);
  }, RUNNING_TIMEOUT_MS + 60_000);

  it('publishes its endpoints, never a secret, and its context runs SQL with results', async () => {
    const record = await pilot.refresh();
    expect(record.details as FlinkDetails).toMatchObject({
      type: 'flink',
      restAddress: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/),
      sqlGatewayAddress: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/),
      rpcAddress: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      taskManagers: [
        { address: '127.0.0.1', id: expect.stringMatching(`^${pilot.id}_`), pilotId: pilot.id }
      ],
      flinkVersion: FLINK_VERSION,
      security: 'tls'
    });
    const config = await readFile(
      join(record.workDir!, FLINK_DIR, FLINK_CONF_DIR, 'config.yaml'),
      'utf8'
    );
    const storePassword = /keystore-password: "([^"]+)"/.exec(config)![1]!;
    const recordText = JSON.stringify(record);
    for (const hidden of [storePassword, 'PRIVATE KEY', 'BEGIN CERTIFICATE']) {
      expect(recordText).not.toContain(hidden);
    }

    const context = await pilot.getContext<FlinkContext>();
    expect(await context.version()).toBe(FLINK_VERSION);
    const result = await context.sql(
      'SELECT count(*) AS n, sum(x) AS total FROM (VALUES (1), (2), (3), (4)) AS t(x)'
    );
    expect(result.columns.map(column => column.name)).toEqual(['n', 'total']);
    expect(result.rows).toEqual([[4, 10]]);
    expect((await context.jobs()).find(job => job.jid === result.jobId)?.state).toBe('FINISHED');
    expect((await context.overview()).taskmanagers).toBe(1);
    const missing = await context.sql('SELECT * FROM no_such_table').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(FlinkRestError);
    expect((missing as FlinkRestError).rootCause).toMatch(/no_such_table/);
  }, 120_000);

  it("counts a Kafka pilot's topic in tumbling windows through the Kafka SQL connector, exactly", async () => {
    const sizes = [1000, 2500, 1500];
    await produceWindowedReadings(await kafkaPilot.getContext(), 'readings', sizes);
    const kafkaRecord = await kafkaPilot.refresh();
    // Only paths of the Kafka pilot's TLS files go into the statement.
    expect(JSON.stringify(kafkaTableOptions(kafkaRecord, 'readings'))).not.toMatch(
      /PRIVATE KEY|BEGIN CERTIFICATE/
    );
    const context = await pilot.getContext<FlinkContext>();
    expect(await countWindows(context, kafkaRecord, 'readings')).toEqual(expectedWindows(sizes));
  }, 180_000);

  it('shows its JobManager UI inside JupyterLab through the dashboard proxy', async () => {
    expect(dashboardPath(await pilot.refresh())).toBe(`pilot-dashboards/${pilot.id}/`);
    const socketDir = await mkdtemp(join(tmpdir(), 'dashboard-proxy-'));
    const proxy = await startDashboardProxy({
      pilots: test.newService(),
      socketPath: join(socketDir, 'socket')
    });
    try {
      const page = await getOverSocket(join(socketDir, 'socket'), `/${pilot.id}/`, {
        'X-Forwarded-Context': '/user/ada/pilot-dashboards'
      });
      expect(page.status).toBe(200);
      expect(page.body).toContain('Apache Flink Web Dashboard');
      // The UI asks its REST API relative to its own page: through the proxy too.
      const overview = await getOverSocket(join(socketDir, 'socket'), `/${pilot.id}/overview`);
      expect(JSON.parse(overview.body)).toMatchObject({
        taskmanagers: 1,
        'flink-version': FLINK_VERSION
      });
    } finally {
      await proxy.close();
      await rm(socketDir, { recursive: true, force: true });
    }
  });

  it('turns Failed within 10 s, naming its TaskManager, when that is killed; leaves nothing', async () => {
    const workDir = pilot.record.workDir!;
    const pids = await withDescendants(await processesMentioning(workDir));
    const lines = await Promise.all(
      pids.map(async pid => await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''))
    );
    const taskManager = pids[lines.findIndex(line => line.includes('TaskManagerRunner'))];
    expect(taskManager).toBeDefined();
    const killedAt = Date.now();
    process.kill(taskManager!, 'SIGKILL');
    const reader = await test.newService().getPilot(pilot.id);
    expect(await until(async () => (await reader.refresh()).state === 'Failed', 10_000)).toBe(true);
    console.log(`Flink TaskManager killed -> Failed in ${Date.now() - killedAt} ms`);
    expect(reader.record.reason).toMatch(
      /the Flink TaskManager on \S+ \(pid \d+\) was killed by signal SIGKILL/
    );
    await kafkaPilot.cancel();
    expect(await until(async () => (await processesMentioning(workDir)).length === 0, 15_000)).toBe(
      true
    );
    expect(await processesMentioning(kafkaPilot.record.workDir!)).toEqual([]);
    const newListeners = (await listeningSockets()).filter(
      socket => !listenersBefore.includes(socket)
    );
    expect(newListeners).toEqual([]);
  });
});

describe('Flink pilot bad input', () => {
  const test = usePilotTestHome('test');

  it('refuses configuration that would undo its security, naming the key', async () => {
    await expect(
      test.service.createPilot({
        type: 'flink',
        resource: 'fork://localhost',
        configuration: { 'security.ssl.rest.enabled': false }
      })
    ).rejects.toThrow(/configuration\.security\.ssl\.rest\.enabled/);
    expect(await test.service.listPilots()).toEqual([]);
  });
});
