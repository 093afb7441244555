import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PilotNode } from '../../../src/allocation/nodes.js';
import { readPilotClientCredentials } from '../../../src/frameworks/certificates.js';
import { tlsDashboardTarget } from '../../../src/frameworks/dashboard-target.js';
import {
  FLINK_CONF_DIR,
  FLINK_DIR,
  FLINK_LOG_DIR,
  FlinkBootstrap
} from '../../../src/frameworks/flink/bootstrap.js';
import { FLINK_JAVA_MODULE_OPTIONS } from '../../../src/frameworks/flink/configuration.js';
import {
  ensureFlinkDistribution,
  FLINK_VERSION
} from '../../../src/frameworks/flink/distribution.js';
import {
  FlinkRestError,
  JobManagerClient,
  SqlGatewayClient
} from '../../../src/frameworks/flink/rest-client.js';
import { FLINK_TLS_DIR } from '../../../src/frameworks/flink/tls.js';
import type { RunningFramework } from '../../../src/frameworks/plugin.js';
import { enterPilotTempDir } from '../../../src/pilot/supervisor/temp-dir.js';
import type { FlinkDetails, PilotDescription } from '../../../src/protocol/index.js';
import { foreignCredentials, tryTls } from '../../support/kafka-access.js';
import { testCacheDir } from '../../support/paths.js';
import { until } from '../../support/until.js';
import {
  isListening,
  processesMentioning,
  tcpListenersOf,
  withDescendants
} from '../../support/pilot-home.js';

/** A JobManager, a TaskManager and the gateway start on a couple of cores (plus a cold fetch). */
const START_TIMEOUT_MS = 300_000;
const PILOT_ID = 'pilot-flink0test01';

describe('the Flink distribution in a cache', () => {
  it('is made once for concurrent callers, starting over after an interrupted fetch', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'flink-cache-'));
    try {
      // What a fetch that was killed leaves: a directory without its marker, a staging copy.
      const versionDir = join(cacheDir, 'flink', FLINK_VERSION);
      await mkdir(join(versionDir, 'home', 'lib'), { recursive: true });
      await writeFile(join(versionDir, 'home', 'lib', 'partial.jar'), 'cut short');
      const abandoned = join(cacheDir, 'flink', `.staging-${FLINK_VERSION}-0badf00d`);
      await mkdir(abandoned, { recursive: true });

      const stages: string[][] = [[], []];
      const [first, second] = await Promise.all(
        stages.map(seen =>
          ensureFlinkDistribution({ cacheDir, onProgress: p => seen.push(p.stage) })
        )
      );
      expect(first).toEqual(second);
      const fetched = stages.filter(seen => seen.some(stage => stage.startsWith('Fetching Flink')));
      expect(fetched).toHaveLength(1);
      expect(existsSync(join(versionDir, 'home', 'lib', 'partial.jar'))).toBe(false);
      expect(existsSync(abandoned)).toBe(false);
      expect(existsSync(join(first.home, 'opt', `flink-sql-gateway-${FLINK_VERSION}.jar`))).toBe(
        true
      );
      expect((await stat(join(first.home, 'bin', 'taskmanager.sh'))).mode & 0o111).toBe(0o111);
    } finally {
      await rm(cacheDir, { recursive: true, force: true });
    }
  }, 600_000);
});

// One cluster serves the tests of this block, in order: starting one takes both cores for a while.
describe('a Flink cluster from FlinkBootstrap on one local node', () => {
  const cacheDir = testCacheDir();
  const node: PilotNode = { name: hostname(), address: '127.0.0.1', launcher: [] };
  let workDir: string;
  let flinkDir: string;
  let savedTmpDir: string | undefined;
  let pilotTemp: { remove(): Promise<void> } | undefined;
  let running: RunningFramework | undefined;
  let details: FlinkDetails;
  let own: { ca: string; cert: string; key: string };
  let listenedPorts: number[] = [];
  const stages: string[] = [];

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'flink-bootstrap-'));
    flinkDir = join(workDir, FLINK_DIR);
    // As a pilot's supervisor does: its JVMs keep their temporary files in the work directory.
    savedTmpDir = process.env.TMPDIR;
    pilotTemp = await enterPilotTempDir(workDir);
    const description = {
      type: 'flink',
      resource: 'fork://localhost',
      numberOfNodes: 1,
      walltimeMinutes: 20,
      configuration: { 'pipeline.name': 'pilot-test', 'table.exec.resource.default-parallelism': 1 }
    } as PilotDescription;
    running = await new FlinkBootstrap({ cacheDir }).start({
      pilotId: PILOT_ID,
      description,
      workDir,
      onProgress: progress => stages.push(progress.stage),
      signal: new AbortController().signal,
      nodes: [node],
      log: () => undefined
    });
    details = running.details as FlinkDetails;
    own = await readPilotClientCredentials(
      join(workDir, FLINK_TLS_DIR),
      path => readFile(path),
      'Flink'
    );
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await running?.stop(20_000);
    if (savedTmpDir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmpDir;
    await pilotTemp?.remove();
    await rm(workDir, { recursive: true, force: true });
  });

  /** The pilot's JVMs: their command lines name its log directory (-Dlog.file). */
  const flinkPids = async (): Promise<number[]> =>
    withDescendants(await processesMentioning(join(flinkDir, FLINK_LOG_DIR)));

  it('took Flink from the cache, and a warm cache fetches nothing', async () => {
    const progress: string[] = [];
    const started = Date.now();
    const distribution = await ensureFlinkDistribution({
      cacheDir,
      onProgress: step => progress.push(step.stage)
    });
    expect(progress).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2000);
    // The module options the pilot's config.yaml carries are those of Flink's own.
    const defaults = await readFile(join(distribution.home, 'conf', 'config.yaml'), 'utf8');
    expect(/^\s+all: (.+)$/m.exec(defaults)?.[1]?.trim()).toBe(FLINK_JAVA_MODULE_OPTIONS.join(' '));
    expect((await stat(join(distribution.home, 'bin', 'jobmanager.sh'))).mode & 0o111).toBe(0o111);
    expect(existsSync(distribution.kafkaConnectorJar)).toBe(true);
  });

  it('publishes its endpoints, with one TaskManager per node over mutual TLS', async () => {
    expect(details).toEqual({
      type: 'flink',
      restAddress: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/),
      sqlGatewayAddress: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/),
      rpcAddress: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      taskManagers: [
        { node: node.name, address: '127.0.0.1', id: `${PILOT_ID}_${node.name}`, pilotId: PILOT_ID }
      ],
      flinkVersion: FLINK_VERSION,
      security: 'tls'
    });
    expect(stages.filter(stage => !stage.startsWith('Fetching'))).toEqual(
      expect.arrayContaining([
        "Issuing the pilot's TLS certificates and secrets",
        'Starting the Flink JobManager',
        'Starting 1 Flink TaskManager(s) and the SQL Gateway',
        'Waiting for 1 Flink TaskManager(s) to register'
      ])
    );
    const jobManager = new JobManagerClient({ address: details.restAddress, credentials: own });
    const overview = await jobManager.overview();
    expect(overview).toMatchObject({
      taskmanagers: 1,
      'slots-total': 2,
      'flink-version': FLINK_VERSION
    });
    const gateway = new SqlGatewayClient({ address: details.sqlGatewayAddress, credentials: own });
    expect(await gateway.info()).toEqual({ productName: 'Apache Flink', version: FLINK_VERSION });
    // Connections can be made elsewhere (through a resource's ssh connection for a remote pilot).
    let connections = 0;
    const target = tlsDashboardTarget(details.restAddress, own);
    const through = new JobManagerClient({
      address: details.restAddress,
      credentials: own,
      connect: onConnect => {
        connections += 1;
        return target.connect(onConnect);
      }
    });
    expect((await through.taskManagers()).map(each => each.path)).toEqual([
      expect.stringMatching(/^pekko\.ssl\.tcp:\/\/flink@127\.0\.0\.1:\d+\//)
    ]);
    expect(connections).toBe(1);
  });

  it('keeps its secrets in 0600 files, never on a command line or in a log', async () => {
    const confDir = join(flinkDir, FLINK_CONF_DIR);
    const tlsDir = join(workDir, FLINK_TLS_DIR);
    for (const dir of [flinkDir, confDir, tlsDir]) {
      expect({ dir, mode: (await stat(dir)).mode & 0o777 }).toEqual({ dir, mode: 0o700 });
    }
    const secretFiles = [
      join(confDir, 'config.yaml'),
      ...(await readdir(tlsDir)).map(name => join(tlsDir, name))
    ];
    for (const file of secretFiles) {
      expect({ file, mode: (await stat(file)).mode & 0o777 }).toEqual({ file, mode: 0o600 });
    }
    const config = await readFile(join(confDir, 'config.yaml'), 'utf8');
    const password = JSON.parse(
      /^security\.ssl\.rest\.keystore-password: (.+)$/m.exec(config)![1]!
    ) as string;
    expect(password.length).toBeGreaterThanOrEqual(32);
    expect(JSON.stringify(details)).not.toContain(password);

    const pids = await flinkPids();
    const commandLines = await Promise.all(
      pids.map(pid => readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''))
    );
    for (const kind of ['StandaloneSessionClusterEntrypoint', 'TaskManagerRunner', 'SqlGateway']) {
      expect({ kind, found: commandLines.some(line => line.includes(kind)) }).toEqual({
        kind,
        found: true
      });
    }
    expect(commandLines.filter(line => line.includes(password))).toEqual([]);
    const logs = await readdir(join(flinkDir, FLINK_LOG_DIR));
    expect(logs.length).toBeGreaterThanOrEqual(3);
    for (const log of logs) {
      const text = await readFile(join(flinkDir, FLINK_LOG_DIR, log), 'utf8');
      expect({ log, found: text.includes(password) }).toEqual({ log, found: false });
    }
    // The JobManager shows the configuration (the user's options applied) with passwords hidden.
    const jobManager = new JobManagerClient({ address: details.restAddress, credentials: own });
    const shown = JSON.stringify(await jobManager.configuration());
    expect(shown).toContain('pilot-test');
    expect(shown).not.toContain(password);
  });

  it("keeps every JVM's temporary files in the pilot's directory", async () => {
    const pids = await flinkPids();
    // -XX:-UsePerfData reached them: no hsperfdata file in the shared /tmp.
    for (const pid of pids) {
      expect(existsSync(`/tmp/hsperfdata_${userInfo().username}/${pid}`)).toBe(false);
    }
    const temporary = await readdir(join(workDir, 'tmp'));
    expect(temporary.some(name => name.startsWith('flink-web-'))).toBe(true);
  });

  it("listens on the node's address only, and takes only clients with the pilot's certificate", async () => {
    const listeners = await tcpListenersOf(await flinkPids());
    // JobManager: RPC, metrics RPC, blob server, REST; TaskManager: RPC, metrics RPC, data;
    // the gateway's REST endpoint.
    expect(listeners.length).toBeGreaterThanOrEqual(8);
    for (const { host, port } of listeners) {
      expect({ host, port }).toEqual({ host: '127.0.0.1', port });
    }
    listenedPorts = listeners.map(listener => listener.port);
    const foreign = await foreignCredentials();
    for (const address of [details.restAddress, details.sqlGatewayAddress]) {
      const { hostname: host, port } = new URL(address);
      expect(await tryTls(host, Number(port), { ca: [own.ca], ...own })).toBe('accepted');
    }
    // Every endpoint, internal ones included, refuses a client without the pilot's certificate.
    for (const { port } of listeners) {
      for (const client of [{}, { cert: foreign.cert, key: foreign.key }]) {
        expect({
          port,
          answer: await tryTls('127.0.0.1', port, { ca: [own.ca], ...client })
        }).toEqual({
          port,
          answer: { refused: expect.any(String) }
        });
      }
    }
    const stranger = new SqlGatewayClient({
      address: details.sqlGatewayAddress,
      credentials: { ca: own.ca, cert: foreign.cert, key: foreign.key }
    });
    await expect(stranger.info()).rejects.toThrow();
  });

  it('runs SQL through the gateway: exact results, errors by their root cause', async () => {
    const gateway = new SqlGatewayClient({ address: details.sqlGatewayAddress, credentials: own });
    const session = await gateway.openSession({ name: 'test' });
    try {
      const result = await session.sql(
        'SELECT count(*) AS n, sum(x) AS total FROM (VALUES (1),(2),(3)) AS t(x)'
      );
      expect(result.columns).toEqual([
        { name: 'n', type: 'BIGINT', nullable: false },
        { name: 'total', type: 'INTEGER', nullable: true }
      ]);
      expect(result.rows).toEqual([[3, 6]]);
      expect(result.truncated).toBe(false);
      expect(result.jobId).toMatch(/^[0-9a-f]{32}$/);

      await session.execute(
        'CREATE TEMPORARY VIEW squares AS SELECT x, x * x AS square FROM (VALUES (1),(2),(3),(4)) AS t(x)'
      );
      expect((await session.sql('SELECT sum(square) FROM squares')).rows).toEqual([[30]]);

      const missing = await session.sql('SELECT * FROM no_such_table').catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(FlinkRestError);
      expect((missing as FlinkRestError).rootCause).toMatch(/no_such_table/);
      expect((missing as FlinkRestError).rootCause).not.toMatch(/\tat /);

      const jobManager = new JobManagerClient({ address: details.restAddress, credentials: own });
      const jobs = await jobManager.jobs();
      expect(jobs.find(job => job.jid === result.jobId)?.state).toBe('FINISHED');

      // An unbounded query: read up to a number of rows, or until aborted; its job is cancelled.
      await session.execute(
        "CREATE TEMPORARY TABLE ticks (x BIGINT) WITH ('connector' = 'datagen', 'rows-per-second' = '20')"
      );
      const some = await session.sql('SELECT x FROM ticks', { maxRows: 5 });
      expect(some.rows).toHaveLength(5);
      expect(some.truncated).toBe(true);
      const stopped = new AbortController();
      setTimeout(() => stopped.abort(new Error('enough')), 3000);
      await expect(session.sql('SELECT x FROM ticks', { signal: stopped.signal })).rejects.toThrow(
        'enough'
      );
      // A job that runs on (INSERT INTO) is the JobManager's to cancel.
      await session.execute(
        "CREATE TEMPORARY TABLE nowhere (x BIGINT) WITH ('connector' = 'blackhole')"
      );
      const insert = await session.execute('INSERT INTO nowhere SELECT x FROM ticks');
      expect(insert.jobId).toMatch(/^[0-9a-f]{32}$/);
      const runs = async (): Promise<boolean> =>
        (await jobManager.jobs()).find(job => job.jid === insert.jobId)?.state === 'RUNNING';
      expect(await until(runs, 30_000)).toBe(true);
      await jobManager.cancelJob(insert.jobId!);

      // The three jobs were cancelled; none runs on.
      const settled = async (): Promise<boolean> =>
        (await jobManager.jobs()).every(job =>
          ['FINISHED', 'CANCELED', 'FAILED'].includes(job.state)
        );
      expect(await until(settled, 30_000)).toBe(true);
      const states = (await jobManager.jobs()).map(job => job.state);
      expect(states.filter(state => state === 'CANCELED')).toHaveLength(3);
      expect((await jobManager.jobs()).find(job => job.jid === some.jobId)?.state).toBe('CANCELED');
    } finally {
      await session.close();
    }
  }, 120_000);

  it('reports a TaskManager that dies, naming it, with its last log lines', async () => {
    const pids = await flinkPids();
    const taskManager = await findPid(pids, 'TaskManagerRunner');
    process.kill(taskManager, 'SIGKILL');
    const reason = await Promise.race([
      running!.exited,
      new Promise<string>((_, reject) =>
        setTimeout(() => reject(new Error('exited did not settle within 20 s')), 20_000)
      )
    ]);
    expect(reason).toMatch(
      new RegExp(
        `^the Flink TaskManager on ${node.name} \\(pid ${taskManager}\\) was killed by signal SIGKILL; last log lines:\\n`
      )
    );
  });

  it('stops leaving no process and no listening port', async () => {
    expect((await flinkPids()).length).toBeGreaterThanOrEqual(2);
    await running!.stop(20_000);
    running = undefined;
    expect(await flinkPids()).toEqual([]);
    for (const port of listenedPorts) {
      expect({ port, listening: await isListening(port) }).toEqual({ port, listening: false });
    }
  });
});

/** The pid among `pids` whose command line names `mainClass`. */
async function findPid(pids: number[], mainClass: string): Promise<number> {
  for (const pid of pids) {
    const line = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (line.includes(mainClass)) return pid;
  }
  throw new Error(`No process of ${pids.join(', ')} runs ${mainClass}`);
}
