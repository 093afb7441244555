import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SparkConnectClient, SparkError } from '../../../src/frameworks/spark/connect-client.js';
import {
  ensureSparkDistribution,
  SPARK_VERSION,
  sparkConnectProtos
} from '../../../src/frameworks/spark/distribution.js';
import {
  CONNECT_SERVER_CLASS,
  sparkJavaArgs,
  startedServicePort
} from '../../../src/frameworks/spark/java.js';
import { testCacheDir } from '../../support/paths.js';

const CONNECT_SERVICE = 'org.apache.spark.sql.connect.service.SparkConnectService';
/** The first run fetches Spark's ~300 MB of jars from Maven Central. */
const FETCH_TIMEOUT_MS = 900_000;

/**
 * The client against a real Spark Connect server of the cached distribution (local mode, on
 * loopback, with a token), as a Spark pilot's first node runs it.
 */
describe('Spark Connect client', () => {
  let server: ChildProcess | undefined;
  let exited: Promise<unknown> | undefined;
  let log = '';
  let address = '';
  let protoDir = '';
  let workDir = '';
  const token = randomBytes(32).toString('hex');
  const clients: SparkConnectClient[] = [];

  function client(): SparkConnectClient {
    const made = new SparkConnectClient({ address, token, protoDir });
    clients.push(made);
    return made;
  }

  beforeAll(async () => {
    const distribution = await ensureSparkDistribution({ cacheDir: testCacheDir() });
    protoDir = await sparkConnectProtos(distribution);
    workDir = await mkdtemp(join(tmpdir(), 'spark-connect-'));
    const args = sparkJavaArgs({
      distribution,
      mainClass: 'org.apache.spark.deploy.SparkSubmit',
      heapMb: 1024,
      args: [
        '--master',
        'local[2]',
        '--class',
        CONNECT_SERVER_CLASS,
        '--conf',
        'spark.connect.grpc.binding.address=127.0.0.1',
        '--conf',
        'spark.connect.grpc.binding.port=0',
        '--conf',
        'spark.ui.enabled=false',
        '--conf',
        `spark.local.dir=${workDir}`,
        'spark-internal'
      ]
    });
    // The token in the environment: a command line is visible to every user of the machine.
    server = spawn('java', args, {
      cwd: workDir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SPARK_CONNECT_AUTHENTICATE_TOKEN: token }
    });
    exited = new Promise(resolve => server!.once('exit', resolve));
    server.stdout!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    server.stderr!.on('data', (chunk: Buffer) => (log += chunk.toString()));
    const deadline = Date.now() + 120_000;
    let port: number | undefined;
    while ((port = startedServicePort(log, CONNECT_SERVICE)) === undefined) {
      if (server.exitCode !== null || Date.now() > deadline) {
        throw new Error(`The Spark Connect server did not start:\n${log.slice(-3000)}`);
      }
      await new Promise(resolve => setTimeout(resolve, 200));
    }
    address = `127.0.0.1:${port}`;
  }, FETCH_TIMEOUT_MS);

  afterAll(async () => {
    // Every session is released (the server refuses only the one without the token).
    await Promise.all(clients.map(made => made.close()));
    server?.kill('SIGTERM');
    await exited;
    if (workDir !== '') await rm(workDir, { recursive: true, force: true });
  }, 60_000);

  it('takes its jars from a warm cache without fetching anything', async () => {
    const progress: string[] = [];
    const started = Date.now();
    await ensureSparkDistribution({
      cacheDir: testCacheDir(),
      onProgress: p => progress.push(p.stage)
    });
    expect(progress).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('speaks to the server of its own distribution', async () => {
    expect(await client().version()).toBe(SPARK_VERSION);
  });

  it('runs a SQL aggregate over 10^7 rows with exact results, as rows and as an Arrow table', async () => {
    const result = await client().sql(
      'SELECT count(*) AS n, sum(id) AS total, max(id) AS top FROM range(10000000)'
    );
    expect(result.rows).toEqual([{ n: 10_000_000n, total: 49_999_995_000_000n, top: 9_999_999n }]);
    expect(result.table.numRows).toBe(1);
    expect(result.table.schema.fields.map(field => field.name)).toEqual(['n', 'total', 'top']);
  });

  it('reads a range with its rows in order, and tables it made', async () => {
    const session = client();
    expect((await session.range(0, 5, 2)).rows).toEqual([{ id: 0n }, { id: 2n }, { id: 4n }]);
    await session.sql(
      'CREATE TEMPORARY VIEW squares AS SELECT id, id * id AS square FROM range(4)'
    );
    const rows = (await session.sql('SELECT sum(square) AS s FROM squares')).rows;
    expect(rows).toEqual([{ s: 14n }]);
  });

  it("reports Spark's error class for a bad query", async () => {
    const failure = await client()
      .sql('SELECT * FROM no_such_table')
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SparkError);
    expect((failure as SparkError).message).toMatch(/TABLE_OR_VIEW_NOT_FOUND.*no_such_table/);
  });

  it('is refused without the token', async () => {
    const stranger = new SparkConnectClient({ address, token: 'not-the-token', protoDir });
    const failure = await stranger.version().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(SparkError);
    expect((failure as SparkError).code).toBe(status.UNAUTHENTICATED);
    await expect(stranger.close()).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
  });

  it('interrupts a long query', async () => {
    const session = client();
    const long = session
      .sql('SELECT count(*) FROM range(0, 1000000000000, 1, 2)')
      .catch((error: unknown) => error);
    await new Promise(resolve => setTimeout(resolve, 3000));
    await session.interrupt();
    const failure = await long;
    expect(failure).toBeInstanceOf(SparkError);
    expect((failure as SparkError).message).toMatch(/OPERATION_CANCELED|cancel|interrupt/i);
  }, 60_000);
});
