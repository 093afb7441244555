import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { beforeAll, describe, expect, it } from 'vitest';
import { getJson } from '../../../src/frameworks/https-json.js';
import { kafkaTopicSource, SparkError, type SparkContext } from '../../../src/frameworks/index.js';
import { CONNECT_TOKEN_FILE, SPARK_DIR } from '../../../src/frameworks/spark/bootstrap.js';
import { SparkConnectClient } from '../../../src/frameworks/spark/connect-client.js';
import {
  ensureSparkDistribution,
  SPARK_VERSION,
  sparkConnectProtos
} from '../../../src/frameworks/spark/distribution.js';
import { SPARK_TLS_DIR } from '../../../src/frameworks/spark/tls.js';
import type { Pilot } from '../../../src/pilot/index.js';
import { dashboardPath, type SparkDetails } from '../../../src/protocol/index.js';
import { startDashboardProxy } from '../../../src/dashboards/dashboard-proxy.js';
import { getOverSocket } from '../../support/unix-http.js';
import { foreignCredentials, tryTls } from '../../support/kafka-access.js';
import { smallKafkaPilot } from '../../support/small-kafka.js';
import { until } from '../../support/until.js';
import {
  listeningSockets,
  processesMentioning,
  tcpListenersOf,
  usePilotTestHome,
  withDescendants
} from '../../support/pilot-home.js';

/** Spark's logs under `dir`: the daemons' and every executor's stdout and stderr. */
async function logsUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter(
      entry =>
        entry.isFile() &&
        (entry.name.endsWith('.log') || entry.name === 'stderr' || entry.name === 'stdout')
    )
    .map(entry => join(entry.parentPath, entry.name));
}

/** A master, a worker, Spark Connect and an executor start on a couple of cores. */
const RUNNING_TIMEOUT_MS = 300_000;

// One Spark pilot (and a Kafka pilot to read) serve the tests of this block: a Spark pilot
// takes tens of seconds of both cores to start.
describe('a Spark pilot on fork://localhost', () => {
  const test = usePilotTestHome('file');
  let pilot: Pilot;
  let kafkaPilot: Pilot;
  let listenersBefore: string[];
  let own: { ca: string; cert: string; key: string };

  beforeAll(async () => {
    listenersBefore = await listeningSockets();
    [kafkaPilot, pilot] = await Promise.all([
      test.service.createPilot({ ...smallKafkaPilot, name: 'source' }),
      test.service.createPilot({
        type: 'spark',
        resource: 'fork://localhost',
        name: 'spark',
        walltimeMinutes: 20,
        configuration: { 'spark.sql.shuffle.partitions': 4 }
      })
    ]);
    await Promise.all([
      kafkaPilot.wait('Running', { timeoutMs: RUNNING_TIMEOUT_MS }),
      pilot.wait('Running', { timeoutMs: RUNNING_TIMEOUT_MS })
    ]);
    const tlsDir = join(pilot.record.workDir!, SPARK_TLS_DIR);
    own = {
      ca: await readFile(join(tlsDir, 'ca.pem'), 'utf8'),
      cert: await readFile(join(tlsDir, 'client.pem'), 'utf8'),
      key: await readFile(join(tlsDir, 'client-key.pem'), 'utf8')
    };
  }, RUNNING_TIMEOUT_MS + 60_000);

  it('took its jars from the cache, and a warm cache fetches nothing', async () => {
    const progress: string[] = [];
    const started = Date.now();
    await ensureSparkDistribution({
      cacheDir: test.cacheDir,
      onProgress: step => progress.push(step.stage)
    });
    expect(progress).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('publishes its endpoints, and keeps its secrets in 0600 files, never in its record', async () => {
    const record = await pilot.refresh();
    expect(record.details as SparkDetails).toMatchObject({
      type: 'spark',
      masterUrl: expect.stringMatching(/^spark:\/\/127\.0\.0\.1:\d+$/),
      connectAddress: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      masterUiAddress: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/),
      workers: [{ address: '127.0.0.1', pilotId: pilot.id }],
      sparkVersion: SPARK_VERSION,
      security: 'tls'
    });
    const sparkDir = join(record.workDir!, SPARK_DIR);
    const tlsDir = join(record.workDir!, SPARK_TLS_DIR);
    for (const dir of [sparkDir, tlsDir]) expect((await stat(dir)).mode & 0o777).toBe(0o700);
    for (const file of [
      join(sparkDir, 'spark.properties'),
      join(sparkDir, CONNECT_TOKEN_FILE),
      ...(await readdir(tlsDir)).map(name => join(tlsDir, name))
    ]) {
      expect({ file, mode: (await stat(file)).mode & 0o777 }).toEqual({ file, mode: 0o600 });
    }
    const token = (await readFile(join(sparkDir, CONNECT_TOKEN_FILE), 'utf8')).trim();
    const properties = await readFile(join(sparkDir, 'spark.properties'), 'utf8');
    const secret = /^spark\.authenticate\.secret=(.+)$/m.exec(properties)![1]!;
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    const storePassword = /^spark\.ssl\.ui\.keyStorePassword=(.+)$/m.exec(properties)![1]!;
    const recordText = JSON.stringify(record);
    for (const hidden of [token, secret, 'PRIVATE KEY', 'BEGIN CERTIFICATE']) {
      expect(recordText).not.toContain(hidden);
    }
    // Nor on any command line of its processes (executors' included: other users see those),
    // nor in any log of Spark's, once a query has run executors.
    const context = await pilot.getContext<SparkContext>();
    await context.sql('SELECT count(*) FROM range(0, 1000, 1, 4)');
    const pids = await withDescendants(await processesMentioning(sparkDir));
    const commandLines = await Promise.all(
      pids.map(pid => readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''))
    );
    expect(commandLines.some(line => line.includes('CoarseGrainedExecutorBackend'))).toBe(true);
    const logs = await logsUnder(sparkDir);
    expect(logs.length).toBeGreaterThanOrEqual(4);
    for (const hidden of [token, secret, storePassword]) {
      expect(commandLines.filter(line => line.includes(hidden))).toEqual([]);
      for (const log of logs) {
        expect({ log, found: (await readFile(log, 'utf8')).includes(hidden) }).toEqual({
          log,
          found: false
        });
      }
    }
  });

  it('runs SQL over 10^7 rows through its context, exact, with its configuration applied', async () => {
    const context = await pilot.getContext<SparkContext>();
    expect(await context.version()).toBe(SPARK_VERSION);
    const result = await context.sql(
      'SELECT count(*) AS n, sum(id) AS total, max(id) AS top FROM range(0, 10000000, 1, 8)'
    );
    expect(result.rows).toEqual([{ n: 10_000_000n, total: 49_999_995_000_000n, top: 9_999_999n }]);
    expect(result.table.numRows).toBe(1);
    expect(result.table.schema.fields.map(field => field.name)).toEqual(['n', 'total', 'top']);
    expect((await context.sql("SELECT '${spark.sql.shuffle.partitions}' AS p")).rows).toEqual([
      { p: '4' }
    ]);
  });

  it("answers as Spark does: a range, a session's view, an error class, an interrupted query", async () => {
    const context = await pilot.getContext<SparkContext>();
    expect((await context.range(0, 5, 2)).rows).toEqual([{ id: 0n }, { id: 2n }, { id: 4n }]);
    await context.sql(
      'CREATE TEMPORARY VIEW squares AS SELECT id, id * id AS square FROM range(4)'
    );
    expect((await context.sql('SELECT sum(square) AS s FROM squares')).rows).toEqual([{ s: 14n }]);
    const missing = await context.sql('SELECT * FROM no_such_table').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(SparkError);
    expect((missing as SparkError).message).toMatch(/TABLE_OR_VIEW_NOT_FOUND.*no_such_table/);
    const long = context
      .sql('SELECT count(*) FROM range(0, 1000000000000, 1, 2)')
      .catch((error: unknown) => error);
    await new Promise(resolve => setTimeout(resolve, 3000));
    await context.interrupt();
    const interrupted = await long;
    expect(interrupted).toBeInstanceOf(SparkError);
    expect((interrupted as SparkError).message).toMatch(/OPERATION_CANCELED|cancel|interrupt/i);
  }, 60_000);

  it("takes only clients with its certificate and token, every endpoint on the node's address", async () => {
    const details = (await pilot.refresh()).details as SparkDetails;
    const foreign = await foreignCredentials();
    // Spark Connect: TLS with the pilot's certificate only, then the token.
    const [host, port] = details.connectAddress.split(':') as [string, string];
    expect(await tryTls(host, Number(port), { ca: [own.ca], ...own, ALPNProtocols: ['h2'] })).toBe(
      'accepted'
    );
    expect(await tryTls(host, Number(port), { ca: [own.ca] })).toEqual({
      refused: expect.any(String)
    });
    expect(
      await tryTls(host, Number(port), { ca: [own.ca], cert: foreign.cert, key: foreign.key })
    ).toEqual({ refused: expect.any(String) });
    const protoDir = await sparkConnectProtos(
      await ensureSparkDistribution({ cacheDir: test.cacheDir })
    );
    const tokenless = new SparkConnectClient({
      address: details.connectAddress,
      token: 'not-the-token',
      protoDir,
      tls: { ca: Buffer.from(own.ca), cert: Buffer.from(own.cert), key: Buffer.from(own.key) }
    });
    const refused = await tokenless.version().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SparkError);
    expect((refused as SparkError).code).toBe(status.UNAUTHENTICATED);
    await expect(tokenless.close()).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    // The master's UI: the pilot's certificate only.
    const state = (await getJson(details.masterUiAddress, '/json/', own)) as {
      workers: { state: string }[];
      activeapps: { name: string }[];
    };
    expect(state.workers.map(worker => worker.state)).toEqual(['ALIVE']);
    expect(state.activeapps.map(app => app.name)).toEqual([`Spark Connect of ${pilot.id}`]);
    const ui = new URL(details.masterUiAddress);
    expect(await tryTls(ui.hostname, Number(ui.port), { ca: [own.ca] })).toEqual({
      refused: expect.any(String)
    });
    // Every socket the pilot's Spark processes listen on is on the node's address.
    const listeners = await tcpListenersOf(
      await withDescendants(await processesMentioning(join(pilot.record.workDir!, SPARK_DIR)))
    );
    expect(listeners.length).toBeGreaterThanOrEqual(6);
    for (const { host: address, port: listening } of listeners) {
      expect({ address, listening }).toEqual({ address: '127.0.0.1', listening });
    }
  });

  it("reads a Kafka pilot's topic through its Kafka source, every message counted once", async () => {
    const count = 5_000;
    const kafka = await kafkaPilot.getContext();
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'numbers', numPartitions: 3 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    for (let start = 0; start < count; start += 500) {
      await producer.send({
        topic: 'numbers',
        messages: Array.from({ length: 500 }, (_, i) => ({ value: String(start + i) }))
      });
    }
    await producer.disconnect();

    const spark = await pilot.getContext<SparkContext>();
    const source = kafkaTopicSource(await kafkaPilot.refresh(), 'numbers');
    // Only paths of the Kafka pilot's TLS files go into the query.
    expect(JSON.stringify(source)).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
    await spark.createView('numbers', source);
    const { rows } = await spark.sql(
      'SELECT count(*) AS n, count(DISTINCT CAST(value AS STRING)) AS distinct_values, ' +
        'sum(CAST(CAST(value AS STRING) AS BIGINT)) AS total, count(DISTINCT partition) AS partitions FROM numbers'
    );
    expect(rows).toEqual([
      { n: 5000n, distinct_values: 5000n, total: BigInt((count * (count - 1)) / 2), partitions: 3n }
    ]);
  });

  it('shows its master UI inside JupyterLab through the dashboard proxy, links under its path', async () => {
    expect(dashboardPath(await pilot.refresh())).toBe(`pilot-dashboards/${pilot.id}/`);
    const socketDir = await mkdtemp(join(tmpdir(), 'dashboard-proxy-'));
    const proxy = await startDashboardProxy({
      pilots: test.newService(),
      socketPath: join(socketDir, 'socket')
    });
    try {
      // As jupyter-server-proxy forwards it: its own path in X-Forwarded-Context.
      const page = await getOverSocket(join(socketDir, 'socket'), `/${pilot.id}/`, {
        'X-Forwarded-Context': '/user/ada/pilot-dashboards'
      });
      expect(page.status).toBe(200);
      expect(page.body).toContain('Spark Master at spark://127.0.0.1:');
      expect(page.body).toContain(`href="/user/ada/pilot-dashboards/${pilot.id}/static/`);
      const state = await getOverSocket(join(socketDir, 'socket'), `/${pilot.id}/json/`);
      expect(JSON.parse(state.body)).toMatchObject({ status: 'ALIVE', aliveworkers: 1 });
    } finally {
      await proxy.close();
      await rm(socketDir, { recursive: true, force: true });
    }
  });

  it('leaves no process and no listening port once cancelled', async () => {
    await Promise.all([pilot.cancel(), kafkaPilot.cancel()]);
    expect(pilot.state).toBe('Canceled');
    for (const ended of [pilot, kafkaPilot]) {
      expect(await processesMentioning(ended.record.workDir!)).toEqual([]);
    }
    const newListeners = (await listeningSockets()).filter(
      socket => !listenersBefore.includes(socket)
    );
    expect(newListeners).toEqual([]);
  });
});

describe('Spark pilot faults and bad input', () => {
  const test = usePilotTestHome('test');

  it('turns Failed with the reason within 10 s when its worker is killed, and leaves nothing', async () => {
    const pilot = await test.service.createPilot({
      type: 'spark',
      resource: 'fork://localhost',
      walltimeMinutes: 20
    });
    await pilot.wait('Running', { timeoutMs: RUNNING_TIMEOUT_MS });
    const workDir = pilot.record.workDir!;
    const pids = await processesMentioning(workDir);
    const lines = await Promise.all(
      pids.map(async pid =>
        (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ')
      )
    );
    const worker =
      pids[lines.findIndex(line => / org\.apache\.spark\.deploy\.worker\.Worker /.test(line))];
    expect(worker).toBeDefined();

    const killedAt = Date.now();
    process.kill(worker!, 'SIGKILL');
    const reader = await test.newService().getPilot(pilot.id);
    expect(await until(async () => (await reader.refresh()).state === 'Failed', 10_000)).toBe(true);
    const elapsed = Date.now() - killedAt;
    console.log(`Spark worker killed -> Failed in ${elapsed} ms`);
    expect(elapsed).toBeLessThan(10_000);
    expect(reader.record.reason).toMatch(
      /the Spark worker on \S+ \(pid \d+\) was killed by signal SIGKILL/
    );
    expect(await until(async () => (await processesMentioning(workDir)).length === 0, 15_000)).toBe(
      true
    );
  });

  it('refuses configuration that would undo its security, naming the key', async () => {
    await expect(
      test.service.createPilot({
        type: 'spark',
        resource: 'fork://localhost',
        configuration: { 'spark.authenticate': false }
      })
    ).rejects.toThrow(/configuration\.spark\.authenticate/);
    expect(await test.service.listPilots()).toEqual([]);
  });
});
