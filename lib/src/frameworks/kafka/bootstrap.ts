import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { describeExit } from '../../allocation/exits.js';
import { freePortsOn, type PilotNode } from '../../allocation/nodes.js';
import type { KafkaDetails } from '../../protocol/index.js';
import { javaTempOptions } from '../java-temp.js';
import { logTail } from '../log-tail.js';
import { exitOf, stopProcess, type Exit } from '../processes.js';
import type {
  BootstrapOptions,
  FrameworkBootstrap,
  ParentCluster,
  ProgressListener,
  RunningFramework
} from '../plugin.js';
import { SHORT_LIVED_JVM_OPTIONS } from './admin-tool.js';
import { ensureKafkaDistribution, type KafkaDistribution } from './distribution.js';
import {
  drainOurBrokers,
  spreadOntoNewBrokers,
  unregisterOurBrokers,
  type ClusterExtension
} from './extension.js';
import {
  heapOf,
  LOG4J2_PROPERTIES,
  plaintextWarning,
  renderServerProperties,
  securityOf,
  SECURITY_KEY,
  type KafkaSecurity
} from './server-config.js';
import {
  issuePilotCredentials,
  readClientCredentials,
  TLS_DIR,
  type KafkaClientCredentials
} from './tls.js';

const READY_TIMEOUT_MS = 120_000;
/**
 * When a whole multi-node cluster stops, the brokers' shutdown completes within a few seconds
 * (logs flushed), but the last controllers then wait for a quorum that is leaving too: they are
 * killed after this long rather than the full grace.
 */
const QUORUM_STOP_GRACE_MS = 8_000;
const PORT_ATTEMPTS = 3;

/** The parent a child's brokers join, which must run Kafka too. */
function kafkaParent(parent: ParentCluster): ParentCluster<KafkaDetails> {
  if (parent.details.type !== 'kafka') {
    throw new Error(
      `Pilot ${parent.pilotId} runs ${parent.details.type}: a Kafka pilot's brokers join a Kafka parent only`
    );
  }
  return { ...parent, details: parent.details };
}

/** A broker's log for a reason text, without Java stack frames (they bury the message). */
const brokerLogTail = (path: string): Promise<string> =>
  logTail(path, { withoutStackFrames: true });

/** Kafka's cluster ids are 16 random bytes in URL-safe base64; one starting with "-" confuses CLIs. */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * Runs a Java tool to completion with its output appended to `logPath`; a short-lived JVM
 * (formatting a node's storage takes 1.3 rather than 1.8 CPU seconds with the quick JIT only,
 * which counts when every node's format shares the supervisor's node).
 */
async function runJava(
  distribution: KafkaDistribution,
  args: string[],
  logPath: string,
  cwd: string
): Promise<Exit> {
  const log = await open(logPath, 'a', 0o600);
  try {
    const child = spawn(
      'java',
      [...SHORT_LIVED_JVM_OPTIONS, ...javaTempOptions(), '-cp', distribution.classPath, ...args],
      {
        cwd,
        stdio: ['ignore', log.fd, log.fd]
      }
    );
    return await exitOf(child, 'java');
  } finally {
    await log.close();
  }
}

type Probe = 'metadata' | 'group-coordinator';

/**
 * One readiness probe. `metadata`: the broker answers a metadata request and lists itself.
 * `group-coordinator`: it finds a group coordinator, which makes Kafka create its offsets topic,
 * so the first consumer group does not meet "coordinator not available" errors.
 */
async function probe(
  bootstrap: string[],
  what: Probe,
  expected: number[],
  credentials: KafkaClientCredentials | undefined
): Promise<{ ready: boolean; why?: string }> {
  const admin = new Kafka({
    clientId: 'pilot-streaming-readiness',
    brokers: bootstrap,
    ...(credentials !== undefined ? { ssl: credentials } : {}),
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
      const listed = new Set(cluster.brokers.map(broker => broker.nodeId));
      const missing = expected.filter(id => !listed.has(id));
      if (missing.length > 0) {
        return { ready: false, why: `brokers ${missing.join(', ')} are not in the metadata yet` };
      }
      const ready = cluster.controller !== null && cluster.controller >= 0;
      return ready ? { ready } : { ready, why: 'the metadata names no controller yet' };
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

export interface Broker {
  plan: NodePlan;
  child: ChildProcess;
  exit: Promise<Exit>;
}

/** One Kafka node of the pilot: where it runs, its id, role, ports and files. */
export interface NodePlan {
  node: PilotNode;
  nodeId: number;
  roles: 'broker,controller' | 'broker';
  brokerPort: number;
  controllerPort?: number;
  propertiesPath: string;
  dataDir: string;
  logPath: string;
}

/**
 * Starts Kafka (KRaft) on every node of the pilot's allocation: a broker per node, all of them
 * controllers of one quorum (node ids 1..N). A pilot extending a parent starts brokers only, with
 * the node ids reserved for it, that join the parent's quorum. Every node writes its
 * configuration, data and log under the pilot's working directory (kafka/node-<id>/,
 * kafka-<id>.log), which must be on a file system all nodes share.
 */
export class KafkaBootstrap implements FrameworkBootstrap {
  private readonly cacheDir: string;

  constructor(options: { cacheDir: string }) {
    this.cacheDir = options.cacheDir;
  }

  async start(options: BootstrapOptions): Promise<RunningFramework> {
    const { workDir, onProgress, signal, description, nodes, log } = options;
    const parent = options.parent !== undefined ? kafkaParent(options.parent) : undefined;
    if (nodes.length === 0) throw new Error(`Pilot ${options.pilotId} has no node to run Kafka on`);
    const distribution = await ensureKafkaDistribution({ cacheDir: this.cacheDir, onProgress });
    signal.throwIfAborted();
    const kafkaDir = join(workDir, 'kafka');
    const log4jPath = join(kafkaDir, 'log4j2.properties');
    await mkdir(kafkaDir, { recursive: true, mode: 0o700 });
    await writeFile(log4jPath, LOG4J2_PROPERTIES);
    const clusterId = parent?.details.clusterId ?? newClusterId();
    const java = { distribution, log4jPath, workDir, heap: heapOf(description.configuration) };
    // A child's brokers join its parent's cluster: they listen as the parent's do.
    // (Records from before `security` existed are of PLAINTEXT pilots.)
    const security: KafkaSecurity =
      parent !== undefined
        ? (parent.details.security ?? 'plaintext')
        : securityOf(description.configuration);
    const asked = description.configuration[SECURITY_KEY];
    if (parent !== undefined && asked !== undefined && asked !== security) {
      throw new Error(
        `configuration.${SECURITY_KEY} = "${String(asked)}", but parent ${parent.pilotId} listens ${security}: a child's brokers join its parent's cluster and use its security`
      );
    }
    const tls = await prepareTls(security, options.pilotId, workDir, nodes, parent, onProgress);
    if (tls === undefined) {
      log(plaintextWarning(options.pilotId));
      onProgress({ stage: `Warning: ${plaintextWarning(options.pilotId)}`, fraction: 0.05 });
    }

    for (let attempt = 1; ; attempt++) {
      onProgress({ stage: `Choosing ports on ${nodes.length} node(s)`, fraction: 0.1 });
      const plans = await planNodes(nodes, kafkaDir, workDir, parent);
      const voters =
        parent?.details.controllers ??
        plans.map(plan => ({
          nodeId: plan.nodeId,
          host: plan.node.address,
          port: plan.controllerPort!
        }));
      await Promise.all(
        plans.map(async plan => {
          await mkdir(plan.dataDir, { recursive: true, mode: 0o700 });
          await writeFile(
            plan.propertiesPath,
            renderServerProperties({
              nodeId: plan.nodeId,
              roles: plan.roles,
              host: plan.node.address,
              brokerPort: plan.brokerPort,
              ...(plan.controllerPort !== undefined ? { controllerPort: plan.controllerPort } : {}),
              voters,
              dataDir: plan.dataDir,
              configuration: description.configuration,
              ...(tls !== undefined ? { tlsDir: tls.dir } : {})
            })
          );
        })
      );
      onProgress({ stage: 'Formatting Kafka storage', fraction: 0.2 });
      await Promise.all(plans.map(plan => formatStorage(java, plan, clusterId)));
      signal.throwIfAborted();
      onProgress({
        stage: `Starting ${plans.length} Kafka broker(s) on ${plans.map(plan => plan.node.name).join(', ')}`,
        fraction: 0.4
      });
      const brokers: Broker[] = [];
      try {
        for (const plan of plans) brokers.push(await launchBroker(java, plan));
      } catch (error) {
        await stopBrokers(brokers, 10_000);
        throw error;
      }
      const { outcome, lastFailure } = await awaitReady(
        brokers,
        parent === undefined ? ['metadata', 'group-coordinator'] : ['metadata'],
        onProgress,
        signal,
        tls?.credentials
      );
      if (outcome === 'ready') {
        const ours = plans.map(plan => ({
          nodeId: plan.nodeId,
          host: plan.node.address,
          port: plan.brokerPort,
          node: plan.node.name,
          pilotId: options.pilotId
        }));
        if (parent === undefined) {
          return running(brokers, {
            type: 'kafka',
            bootstrapServers: ours.map(broker => `${broker.host}:${broker.port}`),
            brokers: ours,
            controllers: voters,
            nextNodeId: Math.max(...plans.map(plan => plan.nodeId)) + 1,
            clusterId,
            kafkaVersion: distribution.version,
            security
          });
        }
        const extension: ClusterExtension = {
          ours,
          distribution,
          workDir: kafkaDir,
          onProgress,
          log,
          ...(tls !== undefined ? { tls } : {})
        };
        try {
          await spreadOntoNewBrokers(extension);
        } catch (error) {
          await stopBrokers(brokers, 10_000);
          throw error;
        }
        const details: KafkaDetails = {
          ...parent.details,
          bootstrapServers: ours.map(broker => `${broker.host}:${broker.port}`),
          brokers: ours
        };
        return running(brokers, details, async graceMs => {
          // Partitions first, so that nothing is lost, then the brokers, then their records.
          try {
            await drainOurBrokers(extension);
          } catch (error) {
            log(
              `cannot move the partitions off brokers ${ours.map(b => b.nodeId).join(', ')}: ${(error as Error).message}`
            );
          }
          await stopBrokers(brokers, graceMs);
          const parentBrokers = parent.details.brokers.filter(
            broker => broker.pilotId !== options.pilotId
          );
          await unregisterOurBrokers(
            extension,
            parentBrokers.map(broker => `${broker.host}:${broker.port}`)
          ).catch((error: unknown) =>
            log(
              `cannot unregister brokers ${ours.map(b => b.nodeId).join(', ')}: ${(error as Error).message}`
            )
          );
        });
      }
      const tails = await Promise.all(brokers.map(broker => brokerLogTail(broker.plan.logPath)));
      const exited = brokers.filter(
        broker => broker.child.exitCode !== null || broker.child.signalCode !== null
      );
      await stopBrokers(brokers, 10_000);
      if (outcome !== 'exited') {
        throw new Error(
          outcome === 'aborted'
            ? 'Start-up aborted'
            : `Kafka was not ready (${parent === undefined ? 'all brokers in the metadata, and the group coordinator' : 'all new brokers in the metadata'}) within ${READY_TIMEOUT_MS / 1000} s (last ${lastFailure ?? 'probe: none ran'})${tails.join('')}`
        );
      }
      if (tails.some(tail => /Address already in use/.test(tail)) && attempt < PORT_ATTEMPTS) {
        onProgress({ stage: 'A chosen port was taken; retrying with new ports', fraction: 0.3 });
        continue;
      }
      const first = exited[0] ?? brokers[0]!;
      throw new Error(
        `${describeExit(`Kafka broker ${first.plan.nodeId} on ${first.plan.node.name}`, await first.exit)} before it was ready${await brokerLogTail(first.plan.logPath)}`
      );
    }
  }
}

/** A pilot's TLS files: its directory, and the client credentials read from it. */
export interface PilotTls {
  dir: string;
  credentials: KafkaClientCredentials;
}

/**
 * Issues the pilot's certificates (TLS unless plaintext was asked for): valid for the address
 * and name of every node, from the parent's authority for a child.
 */
async function prepareTls(
  security: KafkaSecurity,
  pilotId: string,
  workDir: string,
  nodes: PilotNode[],
  parent: ParentCluster | undefined,
  onProgress: ProgressListener
): Promise<PilotTls | undefined> {
  if (security === 'plaintext') return undefined;
  if (parent !== undefined && parent.workDir === undefined) {
    throw new Error(
      `Pilot ${pilotId} extends ${parent.pilotId}, whose work directory is not known: its certificate authority cannot be found`
    );
  }
  onProgress({ stage: "Issuing the pilot's TLS certificates", fraction: 0.05 });
  const dir = join(workDir, TLS_DIR);
  await issuePilotCredentials({
    pilotId,
    tlsDir: dir,
    hosts: nodes.flatMap(node => [node.address, node.name]),
    ...(parent !== undefined ? { parentTlsDir: join(parent.workDir!, TLS_DIR) } : {})
  });
  return { dir, credentials: await readClientCredentials(dir, path => readFile(path)) };
}

/** Node ids, roles and free ports of the pilot's Kafka nodes. */
async function planNodes(
  nodes: PilotNode[],
  kafkaDir: string,
  workDir: string,
  parent: ParentCluster | undefined
): Promise<NodePlan[]> {
  return Promise.all(
    nodes.map(async (node, index) => {
      const nodeId = (parent?.firstNodeId ?? 1) + index;
      const roles = parent === undefined ? ('broker,controller' as const) : ('broker' as const);
      const [brokerPort, controllerPort] = await freePortsOn(node, roles === 'broker' ? 1 : 2);
      const dir = join(kafkaDir, `node-${nodeId}`);
      return {
        node,
        nodeId,
        roles,
        brokerPort: brokerPort!,
        ...(controllerPort !== undefined ? { controllerPort } : {}),
        propertiesPath: join(dir, 'server.properties'),
        dataDir: join(dir, 'data'),
        logPath: join(workDir, `kafka-${nodeId}.log`)
      };
    })
  );
}

/** How the Kafka JVMs of a pilot run. */
export interface JavaSetting {
  distribution: KafkaDistribution;
  log4jPath: string;
  workDir: string;
  heap: string;
}

/** Writes the node's storage metadata (cluster id, node id); a node formatted before is kept. */
export async function formatStorage(
  java: JavaSetting,
  plan: NodePlan,
  clusterId: string
): Promise<void> {
  const formatted = await runJava(
    java.distribution,
    [
      `-Dlog4j2.configurationFile=${java.log4jPath}`,
      'kafka.tools.StorageTool',
      'format',
      '--ignore-formatted',
      '--cluster-id',
      clusterId,
      '--config',
      plan.propertiesPath
    ],
    plan.logPath,
    java.workDir
  );
  if (formatted.code !== 0) {
    throw new Error(
      `${describeExit(`Formatting Kafka storage of node ${plan.nodeId}`, formatted)}${await brokerLogTail(plan.logPath)}`
    );
  }
}

/** Starts the node's broker, on its node (through the node's launcher), output to its log. */
export async function launchBroker(java: JavaSetting, plan: NodePlan): Promise<Broker> {
  const log = await open(plan.logPath, 'a', 0o600);
  try {
    const argv = [
      ...plan.node.launcher,
      'java',
      ...javaTempOptions(),
      `-Xmx${java.heap}`,
      `-Xms${java.heap}`,
      '-XX:+UseG1GC',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${java.log4jPath}`,
      '-cp',
      java.distribution.classPath,
      'kafka.Kafka',
      plan.propertiesPath
    ];
    // Same session as the supervisor, so cancelling the pilot's process group reaches it.
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: java.workDir,
      stdio: ['ignore', log.fd, log.fd]
    });
    const exit = exitOf(child, 'java');
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', error =>
        reject(
          new Error(`Cannot start ${argv[0]!} for Kafka node ${plan.nodeId}: ${error.message}`)
        )
      );
    });
    return { plan, child, exit };
  } finally {
    await log.close();
  }
}

/**
 * Polls until every broker is in the cluster's metadata (then, for a new cluster, until the group
 * coordinator answers), a broker exits, the deadline passes or start-up is aborted.
 */
async function awaitReady(
  brokers: Broker[],
  probes: Probe[],
  onProgress: ProgressListener,
  signal: AbortSignal,
  credentials: KafkaClientCredentials | undefined
): Promise<{ outcome: 'ready' | 'exited' | 'timeout' | 'aborted'; lastFailure?: string }> {
  let exited = false;
  let lastFailure: string | undefined;
  for (const broker of brokers) {
    void broker.exit.then(() => {
      exited = true;
    });
  }
  const bootstrap = brokers.map(broker => `${broker.plan.node.address}:${broker.plan.brokerPort}`);
  const expected = brokers.map(broker => broker.plan.nodeId);
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const stages: Record<Probe, [string, number]> = {
    metadata: [`Waiting for ${brokers.length} Kafka broker(s) to join the cluster`, 0.6],
    'group-coordinator': ['Waiting for the Kafka group coordinator', 0.8]
  };
  for (const what of probes) {
    const [stage, fraction] = stages[what];
    onProgress({ stage, fraction });
    for (;;) {
      if (exited) return { outcome: 'exited' };
      if (signal.aborted) return { outcome: 'aborted' };
      if (Date.now() > deadline) return { outcome: 'timeout', lastFailure };
      const result = await probe(bootstrap, what, expected, credentials);
      if (result.ready) break;
      lastFailure = `${what} probe: ${result.why ?? 'not ready'}`;
      await new Promise(resolve => setTimeout(resolve, 300));
    }
  }
  return { outcome: exited ? 'exited' : 'ready' };
}

/** The running cluster part; `stop` replaces stopping the brokers (a child drains first). */
function running(
  brokers: Broker[],
  details: KafkaDetails,
  stop: (graceMs: number) => Promise<void> = graceMs =>
    stopBrokers(brokers, brokers.length > 1 ? Math.min(graceMs, QUORUM_STOP_GRACE_MS) : graceMs)
): RunningFramework {
  return {
    details,
    exited: Promise.race(
      brokers.map(broker =>
        broker.exit.then(
          async exit =>
            `${describeExit(`Kafka broker ${broker.plan.nodeId} on ${broker.plan.node.name} (pid ${String(broker.child.pid)})`, exit)}${await brokerLogTail(broker.plan.logPath)}`
        )
      )
    ),
    stop
  };
}

/** Stops all brokers at once (each SIGTERM, then SIGKILL after graceMs). */
async function stopBrokers(brokers: Broker[], graceMs: number): Promise<void> {
  await Promise.all(brokers.map(broker => stopProcess(broker.child, broker.exit, graceMs)));
}
