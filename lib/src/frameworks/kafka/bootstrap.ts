import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { KafkaDetails } from '../../protocol/index.js';
import { pickFreePorts } from '../free-ports.js';
import { lastLines } from '../log-tail.js';
import type { FrameworkBootstrap, ProgressListener, RunningFramework } from '../plugin.js';
import { ensureKafkaDistribution, type KafkaDistribution } from './distribution.js';
import { heapOf, LOG4J2_PROPERTIES, renderServerProperties } from './server-config.js';

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 120_000;
const PORT_ATTEMPTS = 3;

/** Kafka's cluster ids are 16 random bytes in URL-safe base64; one starting with "-" confuses CLIs. */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

function describeExit(what: string, exit: Exit): string {
  return exit.signal !== null
    ? `${what} was killed by signal ${exit.signal}`
    : `${what} exited with code ${String(exit.code)}`;
}

/** The end of a log for a reason text, without Java stack frames (they bury the message). */
async function logTail(path: string): Promise<string> {
  const lines = (await lastLines(path, 200)).filter(
    line => !/^\s+(at |\.\.\. \d+ more)/.test(line)
  );
  return lines.length > 0 ? `; last log lines:\n${lines.slice(-8).join('\n')}` : '';
}

/** Runs a Java main class to completion with its output appended to `logPath`. */
async function runJava(
  distribution: KafkaDistribution,
  args: string[],
  logPath: string,
  cwd: string
): Promise<Exit> {
  const log = await open(logPath, 'a', 0o600);
  try {
    const child = spawn('java', ['-cp', distribution.classPath, ...args], {
      cwd,
      stdio: ['ignore', log.fd, log.fd]
    });
    return await exitOf(child);
  } finally {
    await log.close();
  }
}

function exitOf(child: ChildProcess): Promise<Exit> {
  return new Promise((resolve, reject) => {
    child.once('error', error => reject(new Error(`Cannot run java: ${error.message}`)));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

type Probe = 'metadata' | 'group-coordinator';

/**
 * One readiness probe. `metadata`: the broker answers a metadata request and lists itself.
 * `group-coordinator`: it finds a group coordinator, which makes Kafka create its offsets topic,
 * so the first consumer group does not meet "coordinator not available" errors.
 */
async function probe(bootstrap: string, what: Probe): Promise<{ ready: boolean; why?: string }> {
  const admin = new Kafka({
    clientId: 'pilot-streaming-readiness',
    brokers: [bootstrap],
    connectionTimeout: 1000,
    requestTimeout: 5000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING
  }).admin();
  try {
    await admin.connect();
    // Also loads the metadata kafkajs needs before it can look for a group coordinator.
    const cluster = await admin.describeCluster();
    if (what === 'metadata') {
      const ready =
        cluster.brokers.length > 0 && cluster.controller !== null && cluster.controller >= 0;
      return ready ? { ready } : { ready, why: 'the metadata names no broker or controller yet' };
    }
    // An offset fetch for a group is answered by its coordinator.
    await admin.fetchOffsets({ groupId: 'pilot-streaming-readiness', topics: [] });
    return { ready: true };
  } catch (error) {
    // Not listening yet, or not serving this yet: the caller polls again and keeps the reason.
    return { ready: false, why: (error as Error).message };
  } finally {
    await admin.disconnect();
  }
}

/** Starts a single-node Kafka (KRaft, broker + controller) in the pilot's working directory. */
export class KafkaBootstrap implements FrameworkBootstrap {
  private readonly cacheDir: string;

  constructor(options: { cacheDir: string }) {
    this.cacheDir = options.cacheDir;
  }

  async start(options: {
    pilotId: string;
    description: import('../../protocol/index.js').PilotDescription;
    workDir: string;
    onProgress: ProgressListener;
    signal: AbortSignal;
  }): Promise<RunningFramework> {
    const { workDir, onProgress, signal, description } = options;
    const distribution = await ensureKafkaDistribution({ cacheDir: this.cacheDir, onProgress });
    signal.throwIfAborted();

    const kafkaDir = join(workDir, 'kafka');
    const dataDir = join(kafkaDir, 'data');
    const propertiesPath = join(kafkaDir, 'server.properties');
    const log4jPath = join(kafkaDir, 'log4j2.properties');
    const logPath = join(workDir, 'kafka.log');
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await writeFile(log4jPath, LOG4J2_PROPERTIES);
    const clusterId = newClusterId();

    for (let attempt = 1; ; attempt++) {
      const [brokerPort, controllerPort] = (await pickFreePorts(2, HOST)) as [number, number];
      await writeFile(
        propertiesPath,
        renderServerProperties({
          nodeId: 1,
          roles: 'broker,controller',
          host: HOST,
          brokerPort,
          controllerPort,
          voters: [{ nodeId: 1, host: HOST, port: controllerPort }],
          dataDir,
          configuration: description.configuration
        })
      );
      if (attempt === 1) {
        onProgress({ stage: 'Formatting Kafka storage', fraction: 0.2 });
        const formatted = await runJava(
          distribution,
          [
            `-Dlog4j2.configurationFile=${log4jPath}`,
            'kafka.tools.StorageTool',
            'format',
            '--cluster-id',
            clusterId,
            '--config',
            propertiesPath
          ],
          logPath,
          workDir
        );
        if (formatted.code !== 0) {
          throw new Error(
            `${describeExit('Formatting Kafka storage', formatted)}${await logTail(logPath)}`
          );
        }
      }
      signal.throwIfAborted();
      onProgress({ stage: `Starting Kafka broker on ${HOST}:${brokerPort}`, fraction: 0.4 });
      const broker = await this.launchBroker(
        distribution,
        description,
        propertiesPath,
        log4jPath,
        logPath,
        workDir
      );
      const { outcome, lastFailure } = await this.awaitReady(
        broker,
        `${HOST}:${brokerPort}`,
        onProgress,
        signal
      );
      if (outcome === 'ready') {
        const details: KafkaDetails = {
          type: 'kafka',
          bootstrapServers: [`${HOST}:${brokerPort}`],
          brokers: [{ nodeId: 1, host: HOST, port: brokerPort }],
          clusterId,
          kafkaVersion: distribution.version
        };
        return this.running(broker, details, logPath);
      }
      const tail = await logTail(logPath);
      if (outcome !== 'exited') {
        await stopProcess(broker.child, broker.exit, 10_000);
        throw new Error(
          outcome === 'aborted'
            ? 'Start-up aborted'
            : `Kafka broker was not ready (metadata and group coordinator) within ${READY_TIMEOUT_MS / 1000} s (last ${lastFailure ?? 'probe: none ran'})${tail}`
        );
      }
      const exit = await broker.exit;
      if (/Address already in use/.test(tail) && attempt < PORT_ATTEMPTS) {
        onProgress({ stage: 'A chosen port was taken; retrying with new ports', fraction: 0.3 });
        continue;
      }
      throw new Error(`${describeExit('Kafka broker', exit)} before it was ready${tail}`);
    }
  }

  private async launchBroker(
    distribution: KafkaDistribution,
    description: import('../../protocol/index.js').PilotDescription,
    propertiesPath: string,
    log4jPath: string,
    logPath: string,
    workDir: string
  ): Promise<{ child: ChildProcess; exit: Promise<Exit> }> {
    const heap = heapOf(description.configuration);
    const log = await open(logPath, 'a', 0o600);
    try {
      const child = spawn(
        'java',
        [
          `-Xmx${heap}`,
          `-Xms${heap}`,
          '-XX:+UseG1GC',
          '-Djava.awt.headless=true',
          `-Dlog4j2.configurationFile=${log4jPath}`,
          '-cp',
          distribution.classPath,
          'kafka.Kafka',
          propertiesPath
        ],
        // Same session as the supervisor, so cancelling the pilot's process group reaches it.
        { cwd: workDir, stdio: ['ignore', log.fd, log.fd] }
      );
      const exit = exitOf(child);
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', reject);
      });
      return { child, exit };
    } finally {
      await log.close();
    }
  }

  private async awaitReady(
    broker: { child: ChildProcess; exit: Promise<Exit> },
    bootstrap: string,
    onProgress: ProgressListener,
    signal: AbortSignal
  ): Promise<{ outcome: 'ready' | 'exited' | 'timeout' | 'aborted'; lastFailure?: string }> {
    let exited = false;
    let lastFailure: string | undefined;
    void broker.exit.then(() => {
      exited = true;
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    const stages: [Probe, string, number][] = [
      ['metadata', 'Waiting for the Kafka broker to answer metadata requests', 0.6],
      ['group-coordinator', 'Waiting for the Kafka group coordinator', 0.8]
    ];
    for (const [what, stage, fraction] of stages) {
      onProgress({ stage, fraction });
      for (;;) {
        if (exited) return { outcome: 'exited' };
        if (signal.aborted) return { outcome: 'aborted' };
        if (Date.now() > deadline) return { outcome: 'timeout', lastFailure };
        const result = await probe(bootstrap, what);
        if (result.ready) break;
        lastFailure = `${what} probe: ${result.why ?? 'not ready'}`;
        await new Promise(resolve => setTimeout(resolve, 300));
      }
    }
    return { outcome: exited ? 'exited' : 'ready' };
  }

  private running(
    broker: { child: ChildProcess; exit: Promise<Exit> },
    details: KafkaDetails,
    logPath: string
  ): RunningFramework {
    const pid = broker.child.pid;
    return {
      details,
      exited: broker.exit.then(
        async exit =>
          `${describeExit(`Kafka broker (pid ${String(pid)})`, exit)}${await logTail(logPath)}`
      ),
      stop: graceMs => stopProcess(broker.child, broker.exit, graceMs)
    };
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
async function stopProcess(
  child: ChildProcess,
  exit: Promise<Exit>,
  graceMs: number
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = new Promise<'timeout'>(resolve => {
    const handle = setTimeout(() => resolve('timeout'), graceMs);
    void exit.then(() => clearTimeout(handle));
  });
  if ((await Promise.race([exit, timer])) === 'timeout') {
    child.kill('SIGKILL');
    await exit;
  }
}
