import { execFile, type ChildProcess } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'vitest';
import { readPilotClientCredentials, writeSecret } from '../../src/frameworks/certificates.js';
import { flinkOptions, renderConfigYaml } from '../../src/frameworks/flink/configuration.js';
import {
  ensureFlinkDistribution,
  type FlinkDistribution
} from '../../src/frameworks/flink/distribution.js';
import { flinkScriptEnvironment } from '../../src/frameworks/flink/environment.js';
import { loggedRestEndpoint, loggedRpcEndpoint } from '../../src/frameworks/flink/log-lines.js';
import { JobManagerClient, SqlGatewayClient } from '../../src/frameworks/flink/rest-client.js';
import { issueFlinkCredentials } from '../../src/frameworks/flink/tls.js';
import type { FlinkContext } from '../../src/frameworks/index.js';
import { logTail } from '../../src/frameworks/log-tail.js';
import { spawnLogged, stopProcess, type Exit } from '../../src/frameworks/processes.js';
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
/** Where the peer's processes listen (on ports they choose), as a fork:// pilot's do. */
const PEER_ADDRESS = '127.0.0.1';
/** Names the peer's certificates, pid files and TaskManagers, as a pilot's id does a pilot's. */
const PEER_ID = 'flink-bench-peer';
/** A pilot's TaskManagers have 2 slots when the description names no cores per node. */
const PEER_SLOTS = 2;

interface Configuration {
  label: string;
  resource: 'fork' | 'slurm+ssh';
  nodes: number;
}

interface Row {
  label: string;
  nodes: number;
  /** createPilot() → its SQL Gateway answered through the context (ms), per run. */
  ours: number[];
  toRunning: number[];
  toContext: number[];
  /** Flink's own start commands on this machine: JobManager, `nodes` TaskManagers, gateway. */
  peer: number[];
}

/** One pilot: created → its context answers; then cancelled. */
async function measurePilot(
  service: PilotComputeService,
  resource: string,
  nodes: number
): Promise<{ total: number; toRunning: number; toContext: number; toSupervisor: number }> {
  const started = performance.now();
  const pilot = await service.createPilot({
    type: 'flink',
    resource,
    numberOfNodes: nodes,
    walltimeMinutes: 10
  });
  try {
    await pilot.wait('Running', { timeoutMs: START_TIMEOUT_MS });
    const context = await pilot.getContext<FlinkContext>();
    await context.version();
    const total = performance.now() - started;
    const runningAt = transitionAt(pilot.record, 'Running');
    const createdAt = Date.parse(pilot.record.createdAt);
    const readyAt = performance.timeOrigin + performance.now();
    // When the supervisor started (its job left the queue): the rest of "to Running" is Flink's.
    const supervisorAt = Date.parse(pilot.record.startedAt ?? pilot.record.createdAt);
    return {
      total,
      toRunning: runningAt - createdAt,
      toContext: readyAt - runningAt,
      toSupervisor: supervisorAt - createdAt
    };
  } finally {
    await pilot.cancel();
  }
}

async function logOf(path: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => '');
}

interface PeerProcess {
  what: string;
  logPath: string;
  child: ChildProcess;
  exit: Promise<Exit>;
}

/**
 * Waits until `probe` finds something; fails early, with its log's end, when one of
 * `processes` has exited (Flink reports a bad setting by exiting).
 */
async function until<T>(
  what: string,
  processes: readonly PeerProcess[],
  probe: () => Promise<T | undefined>
): Promise<T> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const found = await probe().catch(() => undefined);
    if (found !== undefined) return found;
    const ended = processes.find(
      each => each.child.exitCode !== null || each.child.signalCode !== null
    );
    if (ended !== undefined) {
      throw new Error(`${ended.what} exited before ${what}${await logTail(ended.logPath)}`);
    }
    if (Date.now() > deadline) throw new Error(`${what} did not happen in time`);
    await new Promise(resolve => setTimeout(resolve, 100));
  }
}

/**
 * The scripts' environment with `tempDir` as TMPDIR, as a pilot's supervisor sets it: the
 * JVMs' java.io.tmpdir (which flinkScriptEnvironment passes on) follows it, so nothing of the
 * peer lands in the machine's /tmp.
 */
function peerEnvironment(
  tempDir: string,
  dirs: { confDir: string; logDir: string; pidDir: string }
): NodeJS.ProcessEnv {
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = tempDir;
  try {
    return flinkScriptEnvironment({ ...dirs, ident: PEER_ID });
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
}

/**
 * Flink's own start commands on this machine (jobmanager.sh, taskmanager.sh and sql-gateway.sh
 * in the foreground), with the pilot's configuration and TLS (mutual TLS on REST included),
 * until the JobManager lists `nodes` TaskManagers and the gateway answers: the readiness a
 * pilot waits for. The certificates are issued before the clock starts, as an installation
 * would have them already. Phase times (ms from the start) go to `phases`.
 */
async function measurePeer(
  distribution: FlinkDistribution,
  dir: string,
  nodes: number,
  phases: Record<string, number>
): Promise<number> {
  const confDir = join(dir, 'conf');
  const logDir = join(dir, 'log');
  const pidDir = join(dir, 'run');
  const tempDir = join(dir, 'tmp');
  const tlsDir = join(dir, 'tls');
  for (const each of [confDir, logDir, pidDir, tempDir]) {
    await mkdir(each, { recursive: true, mode: 0o700 });
  }
  const javaHome = process.env.JAVA_HOME;
  const stores = await issueFlinkCredentials({
    pilotId: PEER_ID,
    tlsDir,
    hosts: [PEER_ADDRESS, 'localhost'],
    ...(javaHome !== undefined && javaHome !== ''
      ? { keytool: join(javaHome, 'bin', 'keytool') }
      : {})
  });
  await writeSecret(
    join(confDir, 'config.yaml'),
    renderConfigYaml(
      flinkOptions({
        address: PEER_ADDRESS,
        stores,
        slotsPerTaskManager: PEER_SLOTS,
        configuration: {}
      }),
      "Flink configuration of the start-up benchmark's peer: a pilot's, on 127.0.0.1."
    )
  );
  // Flink's own console logging (standard output, and a file in the peer's log directory).
  await copyFile(
    join(distribution.home, 'conf', 'log4j-console.properties'),
    join(confDir, 'log4j-console.properties')
  );
  const credentials = await readPilotClientCredentials(tlsDir, path => readFile(path), 'Flink');
  const script = (name: string): string => join(distribution.home, 'bin', name);
  const processes: PeerProcess[] = [];
  // A pid directory per TaskManager, as a pilot has one per node.
  const launch = async (what: string, name: string, argv: string[]): Promise<PeerProcess> => {
    const ownPidDir = join(pidDir, name);
    await mkdir(ownPidDir, { recursive: true, mode: 0o700 });
    const logPath = join(logDir, `${name}.log`);
    const started = await spawnLogged(argv, {
      cwd: dir,
      logPath,
      env: peerEnvironment(tempDir, { confDir, logDir, pidDir: ownPidDir }),
      what
    });
    const made = { what, logPath, ...started };
    processes.push(made);
    return made;
  };

  const started = performance.now();
  const mark = (phase: string): void => {
    phases[phase] = performance.now() - started;
  };
  try {
    const jobManager = await launch('the Flink JobManager', 'jobmanager', [
      script('jobmanager.sh'),
      'start-foreground'
    ]);
    const rpc = await until('the JobManager RPC endpoint', processes, async () =>
      loggedRpcEndpoint(await logOf(jobManager.logPath))
    );
    mark('JobManager RPC');
    await Promise.all(
      Array.from({ length: nodes }, (_, index) =>
        launch(`Flink TaskManager ${index}`, `taskmanager-${index}`, [
          script('taskmanager.sh'),
          'start-foreground',
          `-Djobmanager.rpc.port=${rpc.port}`,
          `-Dtaskmanager.host=${PEER_ADDRESS}`,
          `-Dtaskmanager.bind-host=${PEER_ADDRESS}`,
          `-Dtaskmanager.resource-id=${PEER_ID}_${index}`
        ])
      )
    );
    const rest = await until('the JobManager REST endpoint', processes, async () =>
      loggedRestEndpoint(await logOf(jobManager.logPath))
    );
    mark('JobManager REST');
    // The gateway submits jobs to the JobManager's REST endpoint, whose port it is told.
    const gatewayProcess = await launch('the Flink SQL Gateway', 'sql-gateway', [
      script('sql-gateway.sh'),
      'start-foreground',
      `-Drest.port=${rest.port}`
    ]);
    const gatewayEndpoint = await until('the SQL Gateway REST endpoint', processes, async () =>
      loggedRestEndpoint(await logOf(gatewayProcess.logPath))
    );
    mark('gateway REST');
    const jobManagerClient = new JobManagerClient({
      address: `https://${PEER_ADDRESS}:${rest.port}`,
      credentials
    });
    const gateway = new SqlGatewayClient({
      address: `https://${PEER_ADDRESS}:${gatewayEndpoint.port}`,
      credentials
    });
    await until(`${nodes} TaskManagers`, processes, async () =>
      (await jobManagerClient.taskManagers()).length === nodes ? true : undefined
    );
    mark('TaskManagers listed');
    await until('a gateway answer', processes, () => gateway.info());
    return performance.now() - started;
  } finally {
    // TaskManagers and the gateway first, so that the JobManager sees them leave.
    const [jobManager, ...rest] = processes;
    await Promise.all(rest.map(({ child, exit }) => stopProcess(child, exit, 10_000)));
    if (jobManager !== undefined) await stopProcess(jobManager.child, jobManager.exit, 10_000);
  }
}

test("Flink pilot start-up against Flink's own start commands, on fork:// and slurm+ssh://", async () => {
  const count = benchRuns('FLINK_BENCH_RUNS', 2);
  const loadAtStart = loadavg()[0];
  const dir = await mkdtemp(join(tmpdir(), 'ps-flink-bench-'));
  const cacheDir = defaultPilotCache();
  let restoreSsh: (() => void) | undefined;
  let testbed: Testbed | undefined;
  let service: PilotComputeService | undefined;
  try {
    const distribution = await ensureFlinkDistribution({ cacheDir });
    testbed = await Testbed.start({ nodes: Math.max(...SLURM_NODE_COUNTS) });
    const { ssh } = testbed.info;
    restoreSsh = useTestbedSsh(ssh);
    const remoteHome = await mkdtemp(join(testbed.info.dir, 'home-'));
    service = new PilotComputeService({
      home: join(dir, 'home'),
      cacheDir,
      // The testbed's nodes share this machine's cache: the distribution is there already.
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
    const seconds = (ms: number): string => (ms / 1000).toFixed(2);
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
        const phases: Record<string, number> = {};
        const peer = await measurePeer(distribution, peerDir, configuration.nodes, phases);
        await rm(peerDir, { recursive: true, force: true });
        const peerPhases = Object.entries(phases)
          .map(([phase, ms]) => `${phase} ${seconds(ms)}`)
          .join(', ');
        console.log(
          `${configuration.label}, round ${round}: pilot ${seconds(ours.total)} s (supervisor after ${seconds(ours.toSupervisor)} s, Running after ${seconds(ours.toRunning)} s), Flink's own commands ${seconds(peer)} s (${peerPhases})`
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
    // Kept in the log too: report.py can be run again on it once the bench's directory is gone.
    console.log(JSON.stringify(results));
    const docs = join(repo, 'docs', 'benchmarks');
    const markdown = join(docs, 'flink.md');
    await run(join(repo, '.venv', 'bin', 'python'), [
      join(here, 'report.py'),
      json,
      markdown,
      join(docs, 'flink.png')
    ]);
    console.log(await writeFormattedMarkdown(markdown, await readFile(markdown, 'utf8')));
  } finally {
    await service?.close();
    restoreSsh?.();
    await testbed?.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
