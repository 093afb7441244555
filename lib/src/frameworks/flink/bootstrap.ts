import type { ChildProcess } from 'node:child_process';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { describeExit } from '../../allocation/exits.js';
import type { PilotNode } from '../../allocation/nodes.js';
import type { FlinkDetails } from '../../protocol/index.js';
import { readPilotClientCredentials, writeSecret } from '../certificates.js';
import { logTail } from '../log-tail.js';
import type {
  BootstrapOptions,
  FrameworkBootstrap,
  ParentCluster,
  RunningFramework
} from '../plugin.js';
import { spawnLogged, stopProcess, type Exit } from '../processes.js';
import { flinkOptions, renderConfigYaml } from './configuration.js';
import { KAFKA_CONNECTOR_LINK } from './context.js';

import { ensureFlinkDistribution, FLINK_VERSION } from './distribution.js';
import { flinkScriptEnvironment } from './environment.js';
import { loggedRestEndpoint, loggedRpcEndpoint, type LoggedEndpoint } from './log-lines.js';
import { JobManagerClient, SqlGatewayClient, type FlinkTaskManager } from './rest-client.js';
import { drainTaskManagers } from './retire.js';
import { FLINK_TLS_DIR, issueFlinkCredentials } from './tls.js';

/** Where a Flink pilot keeps its files, relative to its work directory. */
export const FLINK_DIR = 'flink';
/** The pilot's FLINK_CONF_DIR (0700), under FLINK_DIR: config.yaml (0600) holds its secrets. */
export const FLINK_CONF_DIR = 'conf';
/** One log per process, `<role>-<node>.log`, under FLINK_DIR. */
export const FLINK_LOG_DIR = 'log';

const READY_TIMEOUT_S = 180;
const POLL_MS = 250;
/** How long a child's TaskManagers wait for their slots to drain before they stop anyway. */
const RETIRE_TIMEOUT_MS = 120_000;
/** Task slots of each TaskManager when the description names no cores per node. */
const DEFAULT_SLOTS = 2;

/**
 * Flink's processes log to the console only, which the supervisor writes to each process's
 * log: one log per process, the one `exited` quotes (Flink's default also writes a file).
 */
const LOG4J_CONSOLE = `# Written by the pilot: Flink's processes log to their standard output, kept by the supervisor.
rootLogger.level = INFO
rootLogger.appenderRef.console.ref = ConsoleAppender
appender.console.name = ConsoleAppender
appender.console.type = CONSOLE
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yyyy-MM-dd HH:mm:ss,SSS} %-5p %-60c %x - %m%n
logger.netty.name = org.jboss.netty.channel.DefaultChannelPipeline
logger.netty.level = OFF
`;

interface FlinkProcess {
  role: 'JobManager' | 'TaskManager' | 'SQL Gateway';
  what: string;
  node: PilotNode;
  child: ChildProcess;
  exit: Promise<Exit>;
  logPath: string;
}

function hasExited(process: FlinkProcess): boolean {
  return process.child.exitCode !== null || process.child.signalCode !== null;
}

async function exitReason(process: FlinkProcess, when: string): Promise<string> {
  const exit = await process.exit;
  return `${describeExit(`${process.what} (pid ${String(process.child.pid)})`, exit)}${when}${await logTail(process.logPath)}`;
}

/** "https://host:port", with an IPv6 address in brackets. */
function httpsAddress(host: string, port: number): string {
  return `https://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/** A TaskManager's resource id: its pilot and node (unique in a cluster a child joins). */
function taskManagerId(pilotId: string, node: PilotNode): string {
  return `${pilotId}_${node.name}`;
}

/**
 * Waits until `process` has logged what `find` looks for, or it exits, or time runs out.
 */
async function untilLogged<T>(
  process: FlinkProcess,
  find: (log: string) => T | undefined,
  what: string,
  signal: AbortSignal,
  deadline: number
): Promise<T> {
  for (;;) {
    signal.throwIfAborted();
    const found = find(await readFile(process.logPath, 'utf8'));
    if (found !== undefined) return found;
    if (hasExited(process)) throw new Error(await exitReason(process, ' while the pilot started'));
    if (Date.now() > deadline) {
      throw new Error(
        `${process.what} did not report ${what} within ${READY_TIMEOUT_S} s${await logTail(process.logPath)}`
      );
    }
    await new Promise(resolve => setTimeout(resolve, POLL_MS));
  }
}

/**
 * Resource side of Flink: a JobManager and the SQL Gateway on the first node, a TaskManager on
 * each node, started by Flink's own scripts in the foreground (they exec the JVM, so the
 * supervisor's child is the JVM) with the pilot's FLINK_CONF_DIR. Every endpoint listens on its
 * node's address on a port Flink chooses and logs.
 */
export class FlinkBootstrap implements FrameworkBootstrap {
  private readonly cacheDir: string;

  constructor(options: { cacheDir: string }) {
    this.cacheDir = options.cacheDir;
  }

  async start(options: BootstrapOptions): Promise<RunningFramework> {
    const { pilotId, workDir, onProgress, signal, nodes, description, log } = options;
    const parent = options.parent !== undefined ? flinkParent(options.parent) : undefined;
    const firstNode = nodes[0];
    if (firstNode === undefined) throw new Error(`Pilot ${pilotId} has no node to run Flink on`);
    const distribution = await ensureFlinkDistribution({ cacheDir: this.cacheDir, onProgress });
    signal.throwIfAborted();

    const flinkDir = join(workDir, FLINK_DIR);
    const confDir = join(flinkDir, FLINK_CONF_DIR);
    const logDir = join(flinkDir, FLINK_LOG_DIR);
    const pidDir = join(flinkDir, 'run');
    const tlsDir = join(workDir, FLINK_TLS_DIR);
    for (const dir of [flinkDir, confDir, logDir, pidDir]) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
    }
    // Sessions add the Kafka connector from the pilot's directory, whose path contexts know.
    const connectorLink = join(workDir, KAFKA_CONNECTOR_LINK);
    await mkdir(dirname(connectorLink), { recursive: true, mode: 0o700 });
    await rm(connectorLink, { force: true });
    await symlink(distribution.kafkaConnectorJar, connectorLink);

    onProgress({ stage: "Issuing the pilot's TLS certificates and secrets", fraction: 0.2 });
    const javaHome = process.env.JAVA_HOME;
    // A child's TaskManagers join the parent's cluster with certificates of its authority.
    const stores = await issueFlinkCredentials({
      pilotId,
      tlsDir,
      hosts: nodes.flatMap(node => [node.address, node.name]),
      ...(parent !== undefined ? { parentTlsDir: join(parent.workDir, FLINK_TLS_DIR) } : {}),
      ...(javaHome !== undefined && javaHome !== ''
        ? { keytool: join(javaHome, 'bin', 'keytool') }
        : {})
    });
    const configYaml = renderConfigYaml(
      flinkOptions({
        address: parent !== undefined ? parent.rpc.host : firstNode.address,
        stores,
        slotsPerTaskManager: description.coresPerNode ?? DEFAULT_SLOTS,
        configuration: description.configuration
      }),
      `Flink configuration of pilot ${pilotId}, written by its supervisor.\nIt holds the pilot's key store password: readable by its owner only.`
    );
    await writeSecret(join(confDir, 'config.yaml'), configYaml);
    await writeFile(join(confDir, 'log4j-console.properties'), LOG4J_CONSOLE, { mode: 0o600 });
    const credentials = await readPilotClientCredentials(tlsDir, path => readFile(path), 'Flink');
    // A pid directory per node: the scripts lock theirs, which a shared file system may not allow.
    const environmentOn = async (node: PilotNode): Promise<NodeJS.ProcessEnv> => {
      const nodePidDir = join(pidDir, node.name);
      await mkdir(nodePidDir, { recursive: true, mode: 0o700 });
      return flinkScriptEnvironment({ confDir, logDir, pidDir: nodePidDir, ident: pilotId });
    };

    const deadline = Date.now() + READY_TIMEOUT_S * 1000;
    const processes: FlinkProcess[] = [];
    const launch = async (
      node: PilotNode,
      role: FlinkProcess['role'],
      argv: string[]
    ): Promise<FlinkProcess> => {
      const what = `the Flink ${role} on ${node.name}`;
      const logPath = join(logDir, `${role.replace(/ /g, '-')}-${node.name}.log`);
      const started = await spawnLogged([...node.launcher, ...argv], {
        cwd: flinkDir,
        logPath,
        env: await environmentOn(node),
        what
      });
      const made = { role, what, node, logPath, ...started };
      processes.push(made);
      return made;
    };
    const script = (name: string): string => join(distribution.home, 'bin', name);
    let jobManagerClient: JobManagerClient | undefined;
    // Leaving the parent's cluster: the TaskManagers stop once their slots are free.
    const retire = async (): Promise<void> => {
      const ids = processes
        .filter(each => each.role === 'TaskManager' && !hasExited(each))
        .map(each => taskManagerId(pilotId, each.node));
      if (jobManagerClient === undefined || ids.length === 0) return;
      log(`retiring Flink TaskManagers ${ids.join(', ')}: waiting for their slots to drain`);
      await drainTaskManagers({
        jobManager: jobManagerClient,
        ids,
        timeoutMs: RETIRE_TIMEOUT_MS,
        pollMs: POLL_MS
      }).then(
        ({ ms, busy }) =>
          log(
            busy.length === 0
              ? `Flink TaskManagers ${ids.join(', ')} have no slot in use after ${ms} ms`
              : `Flink TaskManagers ${busy.join(', ')} still have slots in use after ${ms} ms: they stop now, and Flink's restart strategy decides what becomes of those tasks`
          ),
        (error: unknown) =>
          log(`cannot retire Flink TaskManagers gracefully: ${(error as Error).message}`)
      );
    };
    const stop = async (graceMs: number): Promise<void> => {
      if (parent !== undefined) await retire();
      // TaskManagers and the gateway first, so that the JobManager sees them leave.
      const jobManager = processes.find(each => each.role === 'JobManager');
      const rest = processes.filter(each => each !== jobManager);
      await Promise.all(rest.map(each => stopProcess(each.child, each.exit, graceMs / 2)));
      if (jobManager !== undefined) {
        await stopProcess(jobManager.child, jobManager.exit, graceMs / 2);
      }
    };
    const anyExited = async (): Promise<void> => {
      const ended = processes.find(hasExited);
      if (ended !== undefined) throw new Error(await exitReason(ended, ' while the pilot started'));
    };

    try {
      let rpc: LoggedEndpoint;
      let jobManager: FlinkProcess | undefined;
      if (parent === undefined) {
        onProgress({ stage: 'Starting the Flink JobManager', fraction: 0.4 });
        jobManager = await launch(firstNode, 'JobManager', [
          script('jobmanager.sh'),
          'start-foreground'
        ]);
        rpc = await untilLogged(
          jobManager,
          loggedRpcEndpoint,
          'its RPC endpoint',
          signal,
          deadline
        );
      } else {
        rpc = parent.rpc;
      }

      onProgress({
        stage:
          parent === undefined
            ? `Starting ${nodes.length} Flink TaskManager(s) and the SQL Gateway`
            : `Starting ${nodes.length} Flink TaskManager(s) for ${parent.pilotId}'s JobManager`,
        fraction: 0.6
      });
      // Node-specific settings on the command line: config.yaml is the same on every node.
      await Promise.all(
        nodes.map(node =>
          launch(node, 'TaskManager', [
            script('taskmanager.sh'),
            'start-foreground',
            `-Djobmanager.rpc.port=${rpc.port}`,
            `-Dtaskmanager.host=${node.address}`,
            `-Dtaskmanager.bind-host=${node.address}`,
            `-Dtaskmanager.resource-id=${taskManagerId(pilotId, node)}`
          ])
        )
      );
      let restAddress: string;
      let sqlGatewayAddress: string;
      let gateway: SqlGatewayClient | undefined;
      if (jobManager !== undefined) {
        const rest: LoggedEndpoint = await untilLogged(
          jobManager,
          loggedRestEndpoint,
          'its REST endpoint',
          signal,
          deadline
        );
        // The gateway submits jobs to the JobManager's REST endpoint, whose port it is told.
        const gatewayProcess = await launch(firstNode, 'SQL Gateway', [
          script('sql-gateway.sh'),
          'start-foreground',
          `-Drest.port=${rest.port}`
        ]);
        const gatewayEndpoint = await untilLogged(
          gatewayProcess,
          loggedRestEndpoint,
          'its REST endpoint',
          signal,
          deadline
        );
        restAddress = httpsAddress(firstNode.address, rest.port);
        sqlGatewayAddress = httpsAddress(firstNode.address, gatewayEndpoint.port);
        gateway = new SqlGatewayClient({ address: sqlGatewayAddress, credentials });
      } else {
        ({ restAddress, sqlGatewayAddress } = parent!.details);
      }
      jobManagerClient = new JobManagerClient({ address: restAddress, credentials });
      onProgress({
        stage: `Waiting for ${nodes.length} Flink TaskManager(s) to register`,
        fraction: 0.8
      });
      await untilReady({
        jobManager: jobManagerClient,
        ...(gateway !== undefined ? { gateway } : {}),
        taskManagerIds: nodes.map(node => taskManagerId(pilotId, node)),
        check: anyExited,
        signal,
        deadline
      });
      if (parent !== undefined) {
        log(
          `Flink TaskManagers ${nodes.map(node => taskManagerId(pilotId, node)).join(', ')} joined ${parent.pilotId}'s JobManager`
        );
      }

      const details: FlinkDetails = {
        type: 'flink',
        restAddress,
        sqlGatewayAddress,
        rpcAddress: `${isIP(rpc.host) === 6 ? `[${rpc.host}]` : rpc.host}:${rpc.port}`,
        taskManagers: nodes.map(node => ({
          node: node.name,
          address: node.address,
          id: taskManagerId(pilotId, node),
          pilotId
        })),
        flinkVersion: FLINK_VERSION,
        security: 'tls'
      };
      return {
        details,
        exited: Promise.race(processes.map(each => exitReason(each, ''))),
        stop
      };
    } catch (error) {
      await stop(10_000);
      throw error;
    }
  }
}

/**
 * Polls the JobManager (mutual TLS) until every TaskManager of `taskManagerIds` has registered,
 * and the gateway (when there is one: a child has none) until it answers; fails early when
 * `check` finds a process gone.
 */
async function untilReady(options: {
  jobManager: JobManagerClient;
  gateway?: SqlGatewayClient;
  taskManagerIds: readonly string[];
  check: () => Promise<void>;
  signal: AbortSignal;
  deadline: number;
}): Promise<void> {
  let missing: readonly string[] = options.taskManagerIds;
  let lastError: Error | undefined;
  for (;;) {
    options.signal.throwIfAborted();
    await options.check();
    try {
      const registered = new Set(
        (await options.jobManager.taskManagers()).map((each: FlinkTaskManager) => each.id)
      );
      missing = options.taskManagerIds.filter(id => !registered.has(id));
      if (missing.length === 0) {
        await options.gateway?.info();
        return;
      }
      lastError = undefined;
    } catch (error) {
      // Not answering yet: asked again until the deadline.
      lastError = error as Error;
    }
    if (Date.now() > options.deadline) {
      throw new Error(
        `The Flink cluster was not ready within ${READY_TIMEOUT_S} s: ${
          missing.length > 0
            ? `TaskManager(s) ${missing.join(', ')} did not register`
            : 'the SQL Gateway did not answer'
        }${lastError !== undefined ? ` (last error: ${lastError.message})` : ''}`
      );
    }
    await new Promise(resolve => setTimeout(resolve, POLL_MS));
  }
}

/** The parent whose JobManager a child's TaskManagers join, which must run Flink too. */
function flinkParent(
  parent: ParentCluster
): ParentCluster<FlinkDetails> & { workDir: string; rpc: LoggedEndpoint } {
  const { details } = parent;
  if (details.type !== 'flink') {
    throw new Error(
      `Pilot ${parent.pilotId} runs ${details.type}: a Flink pilot's TaskManagers join a Flink parent only`
    );
  }
  if (parent.workDir === undefined) {
    throw new Error(
      `Pilot ${parent.pilotId}'s work directory is not known: its authority admits the child's TaskManagers`
    );
  }
  const rpc = /^(.*):(\d+)$/.exec(details.rpcAddress);
  if (rpc === null) {
    throw new Error(
      `Pilot ${parent.pilotId}'s record names no JobManager RPC address (host:port) for TaskManagers to join; it says "${details.rpcAddress}"`
    );
  }
  return {
    ...parent,
    details,
    workDir: parent.workDir,
    rpc: { host: rpc[1]!.replace(/^\[(.*)\]$/, '$1'), port: Number(rpc[2]) }
  };
}
