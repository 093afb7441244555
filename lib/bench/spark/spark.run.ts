import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'vitest';
import { makeSparkHome } from '../../src/frameworks/spark/bootstrap.js';
import { SparkConnectClient } from '../../src/frameworks/spark/connect-client.js';
import {
  ensureSparkDistribution,
  sparkConnectProtos,
  type SparkDistribution
} from '../../src/frameworks/spark/distribution.js';
import {
  CONNECT_SERVER_CLASS,
  sparkJavaArgs,
  startedServicePort
} from '../../src/frameworks/spark/java.js';
import { spawnLogged, stopProcess } from '../../src/frameworks/processes.js';
import type { SparkContext } from '../../src/frameworks/index.js';
import { defaultPilotCache, PilotComputeService } from '../../src/pilot/index.js';
import { Testbed } from '../../test/testbed/testbed.js';
import { writeFormattedMarkdown } from '../support/markdown.js';
import { benchRuns, transitionAt, useTestbedSsh } from '../support/pilot-bench.js';
import { median } from '../support/stats.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');
const START_TIMEOUT_MS = 300_000;
const SLURM_NODE_COUNTS = [1, 3];
const CONNECT_SERVICE = 'org.apache.spark.sql.connect.service.SparkConnectService';

interface Configuration {
  label: string;
  resource: 'fork' | 'slurm+ssh';
  nodes: number;
}

interface Row {
  label: string;
  nodes: number;
  /** createPilot() → its Spark Connect session answered (ms), per run. */
  ours: number[];
  toRunning: number[];
  toContext: number[];
  /** Spark's own start commands on this machine: master, `nodes` workers, Connect answering. */
  peer: number[];
}

/** One pilot: created → its context answers; then cancelled. */
async function measurePilot(
  service: PilotComputeService,
  resource: string,
  nodes: number
): Promise<{ total: number; toRunning: number; toContext: number }> {
  const started = performance.now();
  const pilot = await service.createPilot({
    type: 'spark',
    resource,
    numberOfNodes: nodes,
    walltimeMinutes: 10
  });
  try {
    await pilot.wait('Running', { timeoutMs: START_TIMEOUT_MS });
    const context = await pilot.getContext<SparkContext>();
    await context.version();
    const total = performance.now() - started;
    const runningAt = transitionAt(pilot.record, 'Running');
    const createdAt = Date.parse(pilot.record.createdAt);
    const readyAt = performance.timeOrigin + performance.now();
    return { total, toRunning: runningAt - createdAt, toContext: readyAt - runningAt };
  } finally {
    await pilot.cancel();
  }
}

async function logOf(path: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => '');
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const found = await probe().catch(() => undefined);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`${what} did not happen in time`);
    await new Promise(resolve => setTimeout(resolve, 100));
  }
}

/**
 * Spark's own start commands on this machine (what start-master.sh, start-worker.sh and
 * start-connect-server.sh run), with RPC authentication and encryption and a Connect token as a
 * pilot has, until the master lists `nodes` workers and a Connect client gets an answer.
 */
async function measurePeer(
  distribution: SparkDistribution,
  protoDir: string,
  dir: string,
  nodes: number
): Promise<number> {
  const token = randomBytes(32).toString('hex');
  const properties = join(dir, 'spark.properties');
  await writeFile(
    properties,
    [
      'spark.authenticate=true',
      `spark.authenticate.secret=${randomBytes(32).toString('hex')}`,
      'spark.network.crypto.enabled=true',
      `spark.connect.authenticate.token=${token}`
    ].join('\n'),
    { mode: 0o600 }
  );
  const home = await makeSparkHome(dir, distribution);
  const env = {
    ...process.env,
    SPARK_HOME: home,
    SPARK_SCALA_VERSION: '2.13',
    SPARK_LOCAL_IP: '127.0.0.1'
  };
  const java = (mainClass: string, args: string[], heapMb: number): string[] => [
    'java',
    ...sparkJavaArgs({ distribution, mainClass, args, heapMb })
  ];
  const started = performance.now();
  const processes = [];
  try {
    const masterLog = join(dir, 'master.log');
    processes.push(
      await spawnLogged(
        java(
          'org.apache.spark.deploy.master.Master',
          [
            '--host',
            '127.0.0.1',
            '--port',
            '0',
            '--webui-port',
            '0',
            '--properties-file',
            properties
          ],
          512
        ),
        { cwd: dir, logPath: masterLog, env, what: 'the Spark master' }
      )
    );
    const masterPort = await until('the master start', async () =>
      startedServicePort(await logOf(masterLog), 'sparkMaster')
    );
    const uiPort = await until('the master UI start', async () =>
      startedServicePort(await logOf(masterLog), 'MasterUI')
    );
    const masterUrl = `spark://127.0.0.1:${masterPort}`;
    for (let index = 0; index < nodes; index++) {
      processes.push(
        await spawnLogged(
          java(
            'org.apache.spark.deploy.worker.Worker',
            [
              '--host',
              '127.0.0.1',
              '--port',
              '0',
              '--webui-port',
              '0',
              '--memory',
              '1024m',
              '--work-dir',
              join(dir, `work-${index}`),
              '--properties-file',
              properties,
              masterUrl
            ],
            512
          ),
          { cwd: dir, logPath: join(dir, `worker-${index}.log`), env, what: 'a Spark worker' }
        )
      );
    }
    const connectLog = join(dir, 'connect.log');
    processes.push(
      await spawnLogged(
        java(
          'org.apache.spark.deploy.SparkSubmit',
          [
            '--master',
            masterUrl,
            '--class',
            CONNECT_SERVER_CLASS,
            '--properties-file',
            properties,
            '--conf',
            'spark.connect.grpc.binding.address=127.0.0.1',
            '--conf',
            'spark.connect.grpc.binding.port=0',
            'spark-internal'
          ],
          1024
        ),
        { cwd: dir, logPath: connectLog, env, what: 'Spark Connect' }
      )
    );
    await until(`${nodes} workers`, async () => {
      const response = await fetch(`http://127.0.0.1:${uiPort}/json/`);
      const state = (await response.json()) as { workers: { state: string }[] };
      return state.workers.filter(worker => worker.state === 'ALIVE').length === nodes
        ? true
        : undefined;
    });
    const connectPort = await until('the Connect server start', async () =>
      startedServicePort(await logOf(connectLog), CONNECT_SERVICE)
    );
    const client = new SparkConnectClient({
      address: `127.0.0.1:${connectPort}`,
      token,
      protoDir
    });
    await until('a Connect answer', () => client.version());
    const elapsed = performance.now() - started;
    await client.close();
    return elapsed;
  } finally {
    await Promise.all(processes.map(({ child, exit }) => stopProcess(child, exit, 10_000)));
  }
}

test("Spark pilot start-up against Spark's own start commands, on fork:// and slurm+ssh://", async () => {
  const count = benchRuns('SPARK_BENCH_RUNS', 2);
  const loadAtStart = loadavg()[0];
  const dir = await mkdtemp(join(tmpdir(), 'ps-spark-bench-'));
  const cacheDir = defaultPilotCache();
  let restoreSsh: (() => void) | undefined;
  let testbed: Testbed | undefined;
  let service: PilotComputeService | undefined;
  try {
    const distribution = await ensureSparkDistribution({ cacheDir });
    const protoDir = await sparkConnectProtos(distribution);
    testbed = await Testbed.start({ nodes: Math.max(...SLURM_NODE_COUNTS) });
    const { ssh } = testbed.info;
    restoreSsh = useTestbedSsh(ssh);
    const remoteHome = await mkdtemp(join(testbed.info.dir, 'home-'));
    service = new PilotComputeService({
      home: join(dir, 'home'),
      cacheDir,
      // The testbed's nodes share this machine's cache: the jars are there already.
      remote: { home: remoteHome, cacheDir }
    });
    const resources = {
      fork: 'fork://localhost',
      'slurm+ssh': `slurm+ssh://${ssh.user}@${ssh.host}:${ssh.port}`
    };
    const configurations: Configuration[] = [
      { label: 'fork://localhost, 1 node', resource: 'fork', nodes: 1 },
      ...SLURM_NODE_COUNTS.map(nodes => ({
        label: `slurm+ssh, ${nodes} node${nodes > 1 ? 's' : ''}`,
        resource: 'slurm+ssh' as const,
        nodes
      }))
    ];
    const rows: Row[] = configurations.map(configuration => ({
      label: configuration.label,
      nodes: configuration.nodes,
      ours: [],
      toRunning: [],
      toContext: [],
      peer: []
    }));
    // One warm-up of each, then rounds in turn, so that a change in the machine's load hits
    // every configuration and its peer alike.
    for (let round = 0; round <= count; round++) {
      for (const [index, configuration] of configurations.entries()) {
        const ours = await measurePilot(
          service,
          resources[configuration.resource],
          configuration.nodes
        );
        const peerDir = await mkdtemp(join(dir, 'peer-'));
        const peer = await measurePeer(distribution, protoDir, peerDir, configuration.nodes);
        await rm(peerDir, { recursive: true, force: true });
        console.log(
          `${configuration.label}, round ${round}: pilot ${(ours.total / 1000).toFixed(2)} s (Running after ${(ours.toRunning / 1000).toFixed(2)} s), Spark's own commands ${(peer / 1000).toFixed(2)} s`
        );
        if (round === 0) continue;
        const row = rows[index]!;
        row.ours.push(ours.total);
        row.toRunning.push(ours.toRunning);
        row.toContext.push(ours.toContext);
        row.peer.push(peer);
      }
    }
    const results = {
      date: new Date().toISOString().slice(0, 10),
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      loadAverage: { start: loadAtStart, end: loadavg()[0] },
      runs: count,
      rows: rows.map(row => ({ ...row, ratio: median(row.ours) / median(row.peer) }))
    };
    const json = join(dir, 'results.json');
    await writeFile(json, JSON.stringify(results, null, 2));
    const docs = join(repo, 'docs', 'benchmarks');
    const markdown = join(docs, 'spark.md');
    await run(join(repo, '.venv', 'bin', 'python'), [
      join(here, 'report.py'),
      json,
      markdown,
      join(docs, 'spark.png')
    ]);
    console.log(await writeFormattedMarkdown(markdown, await readFile(markdown, 'utf8')));
  } finally {
    await service?.close();
    restoreSsh?.();
    await testbed?.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
