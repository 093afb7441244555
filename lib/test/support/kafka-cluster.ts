import type { ChildProcess } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { KafkaDistribution } from '../../src/frameworks/kafka/distribution.js';
import {
  formatStorage,
  launchBroker,
  newClusterId,
  type NodePlan
} from '../../src/frameworks/kafka/bootstrap.js';
import {
  LOG4J2_PROPERTIES,
  renderServerProperties,
  type QuorumVoter
} from '../../src/frameworks/kafka/server-config.js';
import { pickFreePorts } from '../../src/frameworks/free-ports.js';
import { lastLines } from '../../src/frameworks/log-tail.js';

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 90_000;
const PORT_ATTEMPTS = 3;

export interface NodeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One Kafka JVM of a local test cluster. */
export interface LocalKafkaNode {
  nodeId: number;
  roles: 'broker,controller' | 'broker';
  brokerPort: number;
  controllerPort?: number;
  logPath: string;
  pid: number;
  exit: Promise<NodeExit>;
}

/** A multi-node KRaft cluster on 127.0.0.1, every node a JVM in its own directory. */
export interface LocalKafkaCluster {
  clusterId: string;
  /** Nodes started and not stopped, by node id. */
  readonly nodes: ReadonlyMap<number, LocalKafkaNode>;
  /** host:port of every running node's broker listener. */
  bootstrapServers(): string[];
  /** Starts broker-only nodes that join the quorum; resolves once the metadata lists them. */
  addBrokers(nodeIds: number[]): Promise<void>;
  /** SIGTERM (a broker's controlled shutdown), SIGKILL after `graceMs`. */
  stopNode(nodeId: number, graceMs?: number): Promise<NodeExit>;
  /** Stops every node (brokers first, so their controlled shutdown still finds the quorum). */
  stop(): Promise<void>;
  /** Every pid this cluster ever started. */
  readonly pids: readonly number[];
}

/** Whether `pid` names a live process (a zombie counts as gone). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
  return true;
}

/** Pids of processes whose command line mentions `text` (e.g. a test's private directory). */
export async function processesMentioning(text: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let commandLine: string;
    try {
      commandLine = await readFile(join('/proc', entry, 'cmdline'), 'utf8');
    } catch (error) {
      // The process ended between listing and reading.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    if (commandLine.includes(text)) found.push(Number(entry));
  }
  return found;
}

async function tail(logPath: string): Promise<string> {
  const lines = (await lastLines(logPath, 200)).filter(
    line => !/^\s+(at |\.\.\. \d+ more)/.test(line)
  );
  return lines.slice(-8).join('\n');
}

/** Broker ids the cluster's metadata lists right now (via any of `servers`). */
async function liveBrokerIds(servers: string[]): Promise<number[]> {
  const admin = new Kafka({
    clientId: 'test-cluster-readiness',
    brokers: servers,
    connectionTimeout: 1000,
    requestTimeout: 5000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING
  }).admin();
  try {
    await admin.connect();
    const { brokers } = await admin.describeCluster();
    return brokers.map(broker => broker.nodeId);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Starts `combinedIds.length` combined (broker + controller) nodes forming the KRaft quorum, and
 * resolves once the metadata lists all of them. Storage of each node is formatted with one
 * cluster id; node directories live under `workDir`, which the caller removes.
 */
export async function startKafkaCluster(options: {
  distribution: KafkaDistribution;
  workDir: string;
  combinedIds: number[];
  heap?: string;
}): Promise<LocalKafkaCluster> {
  const { distribution, workDir, combinedIds } = options;
  const heap = options.heap ?? '256m';
  const clusterId = newClusterId();
  const log4jPath = join(workDir, 'log4j2.properties');
  await writeFile(log4jPath, LOG4J2_PROPERTIES);
  const nodes = new Map<number, LocalKafkaNode & { child: ChildProcess }>();
  const pids: number[] = [];
  let voters: QuorumVoter[] = [];

  /** Formats one node's storage and starts its JVM. */
  const launch = async (
    nodeId: number,
    roles: LocalKafkaNode['roles'],
    brokerPort: number,
    controllerPort: number | undefined
  ): Promise<LocalKafkaNode & { child: ChildProcess }> => {
    const dir = join(workDir, `node-${nodeId}`);
    await rm(dir, { recursive: true, force: true });
    const dataDir = join(dir, 'data');
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    const propertiesPath = join(dir, 'server.properties');
    const logPath = join(dir, 'kafka.log');
    await writeFile(
      propertiesPath,
      renderServerProperties({
        nodeId,
        roles,
        host: HOST,
        brokerPort,
        controllerPort,
        voters,
        dataDir,
        configuration: {}
      })
    );
    const plan: NodePlan = {
      node: { name: `node-${nodeId}`, address: HOST, launcher: [] },
      nodeId,
      roles,
      brokerPort,
      ...(controllerPort !== undefined ? { controllerPort } : {}),
      propertiesPath,
      dataDir,
      logPath
    };
    const java = { distribution, log4jPath, workDir: dir, heap };
    await formatStorage(java, plan, clusterId);
    const { child, exit } = await launchBroker(java, plan);
    pids.push(child.pid!);
    const node = {
      nodeId,
      roles,
      brokerPort,
      controllerPort,
      logPath,
      pid: child.pid!,
      exit,
      child
    };
    nodes.set(nodeId, node);
    return node;
  };

  const stopNode = async (nodeId: number, graceMs = 20_000): Promise<NodeExit> => {
    const node = nodes.get(nodeId);
    if (node === undefined) throw new Error(`No running node ${nodeId} in this cluster`);
    nodes.delete(nodeId);
    if (node.child.exitCode === null && node.child.signalCode === null) {
      node.child.kill('SIGTERM');
      const timer = setTimeout(() => node.child.kill('SIGKILL'), graceMs);
      try {
        return await node.exit;
      } finally {
        clearTimeout(timer);
      }
    }
    return node.exit;
  };

  const stop = async (): Promise<void> => {
    const brokers = [...nodes.values()].filter(node => node.roles === 'broker');
    await Promise.all(brokers.map(node => stopNode(node.nodeId)));
    // The quorum dissolves as its members stop, so their controlled shutdown cannot complete.
    await Promise.all([...nodes.keys()].map(id => stopNode(id, 5_000)));
  };

  /** Waits until the metadata lists `ids`; fails early with the log of a node that exited. */
  const awaitListed = async (ids: number[]): Promise<'ready' | 'port-taken'> => {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let lastProblem: string;
    for (;;) {
      for (const id of ids) {
        const node = nodes.get(id);
        if (
          node !== undefined &&
          (node.child.exitCode !== null || node.child.signalCode !== null)
        ) {
          const log = await tail(node.logPath);
          if (/Address already in use/.test(log)) return 'port-taken';
          throw new Error(`Kafka node ${id} exited during start-up:\n${log}`);
        }
      }
      try {
        const listed = await liveBrokerIds(cluster.bootstrapServers());
        if (ids.every(id => listed.includes(id))) return 'ready';
        lastProblem = `metadata lists brokers ${listed.join(',')}`;
      } catch (error) {
        lastProblem = (error as Error).message;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `Kafka nodes ${ids.join(',')} not listed after ${READY_TIMEOUT_MS} ms: ${lastProblem}`
        );
      }
      await new Promise(resolve => setTimeout(resolve, 300));
    }
  };

  const cluster: LocalKafkaCluster = {
    clusterId,
    nodes,
    pids,
    bootstrapServers: () => [...nodes.values()].map(node => `${HOST}:${node.brokerPort}`),
    stopNode,
    stop,
    async addBrokers(nodeIds) {
      for (let attempt = 1; ; attempt++) {
        const ports = await pickFreePorts(nodeIds.length, HOST);
        await Promise.all(nodeIds.map((id, i) => launch(id, 'broker', ports[i]!, undefined)));
        if ((await awaitListed(nodeIds)) === 'ready') return;
        await Promise.all(nodeIds.map(id => stopNode(id)));
        if (attempt === PORT_ATTEMPTS)
          throw new Error(`Ports kept being taken for brokers ${nodeIds.join(',')}`);
      }
    }
  };

  try {
    for (let attempt = 1; ; attempt++) {
      const ports = await pickFreePorts(2 * combinedIds.length, HOST);
      voters = combinedIds.map((nodeId, i) => ({ nodeId, host: HOST, port: ports[2 * i + 1]! }));
      await Promise.all(
        combinedIds.map((id, i) => launch(id, 'broker,controller', ports[2 * i]!, ports[2 * i + 1]))
      );
      if ((await awaitListed(combinedIds)) === 'ready') return cluster;
      await stop();
      if (attempt === PORT_ATTEMPTS) throw new Error('Ports kept being taken for the quorum');
    }
  } catch (error) {
    await stop();
    throw error;
  }
}
