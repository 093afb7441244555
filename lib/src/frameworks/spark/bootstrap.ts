import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeExit } from '../../allocation/exits.js';
import type { PilotNode } from '../../allocation/nodes.js';
import type { SparkDetails } from '../../protocol/index.js';
import { readPilotClientCredentials, writeSecret } from '../certificates.js';
import { logTail } from '../log-tail.js';
import type {
  BootstrapOptions,
  FrameworkBootstrap,
  ParentCluster,
  RunningFramework
} from '../plugin.js';
import { spawnLogged, stopProcess, type Exit } from '../processes.js';
import { startTlsFront, type TlsFront } from '../tls-front.js';
import { sparkConfigurationArgs } from './configuration.js';
import { ensureSparkDistribution, SPARK_VERSION, type SparkDistribution } from './distribution.js';
import {
  CONNECT_SERVER_CLASS,
  executorDefaultJavaOptions,
  sparkJavaArgs,
  startedServicePort
} from './java.js';
import { daemonPid, retireWorkers, type RetiringWorker } from './decommission.js';
import { endpointOf, untilMasterSays } from './master-state.js';
import { issueSparkCredentials, SPARK_TLS_DIR, SPARK_TLS_FILES, type SparkStores } from './tls.js';

/** Where a Spark pilot keeps its files, relative to its work directory. */
export const SPARK_DIR = 'spark';
/** The Connect server's token (0600), which clients send with every call. */
export const CONNECT_TOKEN_FILE = 'connect.token';
/** The properties (secret included, 0600) every Spark process of the pilot reads. */
const PROPERTIES_FILE = 'spark.properties';
/**
 * How long a child's workers get to finish their running tasks and hand their blocks on when
 * it is cancelled (a child's supervisor is given 180 s: CHILD_CANCEL_GRACE_MS).
 */
const RETIRE_TIMEOUT_MS = 120_000;

const READY_TIMEOUT_S = 180;
const POLL_MS = 250;
const CONNECT_SERVICE = 'org.apache.spark.sql.connect.service.SparkConnectService';
const DAEMON_HEAP_MB = 512;
const CONNECT_HEAP_MB = 1024;
/** What a worker offers executors when the description does not say. */
const WORKER_MEMORY_MB = 1024;

interface SparkProcess {
  what: string;
  child: import('node:child_process').ChildProcess;
  exit: Promise<Exit>;
  logPath: string;
}

/**
 * The properties every Spark process of the pilot reads (0600): RPC authenticated with the
 * pilot's secret (a child's: its parent's) and encrypted; web UIs HTTPS with client
 * certificates; graceful decommissioning; the Connect token (a pilot with its own master).
 */
function sparkProperties(secret: string, stores: SparkStores, token?: string): string {
  // The stores are named per namespace: Spark's UIs do not take them from spark.ssl.* when
  // spark.ssl.enabled is off (which keeps RPC on its own AES encryption).
  const uiTls = (namespace: string): Record<string, string> => ({
    [`${namespace}.enabled`]: 'true',
    [`${namespace}.keyStore`]: stores.keyStore,
    [`${namespace}.keyStoreType`]: 'PKCS12',
    [`${namespace}.keyStorePassword`]: stores.password,
    [`${namespace}.keyPassword`]: stores.password,
    [`${namespace}.trustStore`]: stores.trustStore,
    [`${namespace}.trustStoreType`]: 'PKCS12',
    [`${namespace}.trustStorePassword`]: stores.password,
    [`${namespace}.needClientAuth`]: 'true',
    [`${namespace}.protocol`]: 'TLSv1.3'
  });
  const properties: Record<string, string> = {
    'spark.authenticate': 'true',
    'spark.authenticate.secret': secret,
    'spark.network.crypto.enabled': 'true',
    'spark.io.encryption.enabled': 'true',
    // The master's REST submission server takes unauthenticated submissions.
    'spark.master.rest.enabled': 'false',
    'spark.ssl.enabled': 'false',
    // The Connect server's (driver's) UI, and the master's and workers'.
    ...uiTls('spark.ssl.ui'),
    ...uiTls('spark.ssl.standalone'),
    // Workers of a child pilot leave gracefully (see decommission.ts).
    'spark.decommission.enabled': 'true',
    'spark.storage.decommission.enabled': 'true',
    ...(token !== undefined ? { 'spark.connect.authenticate.token': token } : {})
  };
  // Java properties files treat backslashes as escapes.
  return `${Object.entries(properties)
    .map(([key, value]) => `${key}=${value.replace(/\\/g, '\\\\')}`)
    .join('\n')}\n`;
}

/**
 * A SPARK_HOME for the pilot: Spark's launcher (which starts executors) looks for `jars/` and a
 * RELEASE file there; the jars are the cache's.
 */
export async function makeSparkHome(dir: string, distribution: SparkDistribution): Promise<string> {
  const home = join(dir, 'home');
  await mkdir(home, { recursive: true });
  await writeFile(join(home, 'RELEASE'), `Spark ${distribution.version} (Maven Central jars)\n`);
  await rm(join(home, 'jars'), { force: true });
  await symlink(distribution.libDir, join(home, 'jars'));
  return home;
}

/** Waits until `service` has logged its port in `logPath`, or a process exits, or time runs out. */
async function servicePort(
  process: SparkProcess,
  service: string,
  signal: AbortSignal,
  deadline: number
): Promise<number> {
  for (;;) {
    signal.throwIfAborted();
    const port = startedServicePort(await readFile(process.logPath, 'utf8'), service);
    if (port !== undefined) return port;
    if (process.child.exitCode !== null || process.child.signalCode !== null) {
      const exit = await process.exit;
      throw new Error(
        `${describeExit(process.what, exit)} while the pilot started${await logTail(process.logPath)}`
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${process.what} did not start ${service} within ${READY_TIMEOUT_S} s${await logTail(process.logPath)}`
      );
    }
    await new Promise(resolve => setTimeout(resolve, POLL_MS));
  }
}

/** Resource side of Spark: a master on the first node, a worker on each, and Spark Connect. */
export class SparkBootstrap implements FrameworkBootstrap {
  private readonly cacheDir: string;

  constructor(options: { cacheDir: string }) {
    this.cacheDir = options.cacheDir;
  }

  async start(options: BootstrapOptions): Promise<RunningFramework> {
    const { pilotId, workDir, onProgress, signal, nodes, description, log } = options;
    const parent = options.parent !== undefined ? sparkParent(options.parent) : undefined;
    const firstNode = nodes[0];
    if (firstNode === undefined) throw new Error(`Pilot ${pilotId} has no node to run Spark on`);
    const distribution = await ensureSparkDistribution({ cacheDir: this.cacheDir, onProgress });
    signal.throwIfAborted();
    const sparkDir = join(workDir, SPARK_DIR);
    const tlsDir = join(workDir, SPARK_TLS_DIR);
    await mkdir(sparkDir, { recursive: true, mode: 0o700 });
    const home = await makeSparkHome(sparkDir, distribution);

    onProgress({ stage: "Issuing the pilot's TLS certificates and secrets", fraction: 0.2 });
    // A child's workers join the parent's cluster: its RPC secret, its authority's certificates.
    const stores = await issueSparkCredentials({
      pilotId,
      tlsDir,
      hosts: nodes.flatMap(node => [node.address, node.name]),
      ...(parent !== undefined ? { parentTlsDir: join(parent.workDir, SPARK_TLS_DIR) } : {})
    });
    const secret =
      parent !== undefined ? await parentSecret(parent) : randomBytes(32).toString('hex');
    const token = parent === undefined ? randomBytes(32).toString('hex') : undefined;
    const propertiesPath = join(sparkDir, PROPERTIES_FILE);
    await writeSecret(propertiesPath, sparkProperties(secret, stores, token));
    if (token !== undefined) await writeSecret(join(sparkDir, CONNECT_TOKEN_FILE), token);
    const credentials = await readPilotClientCredentials(tlsDir, path => readFile(path), 'Spark');

    const deadline = Date.now() + READY_TIMEOUT_S * 1000;
    const processes: SparkProcess[] = [];
    const workers: SparkWorker[] = [];
    let front: TlsFront | undefined;
    let masterUiAddress = parent?.details.masterUiAddress;
    const workerDir = (node: PilotNode): string => join(sparkDir, `work-${node.name}`);
    const launch = async (
      node: PilotNode,
      role: string,
      mainClass: string,
      args: string[],
      heapMb: number
    ): Promise<SparkProcess> => {
      const what = `the Spark ${role} on ${node.name}`;
      const logPath = join(sparkDir, `${role}-${node.name}.log`);
      const env = {
        ...process.env,
        SPARK_HOME: home,
        // Spark's launcher otherwise looks for a source build to learn the Scala version.
        SPARK_SCALA_VERSION: '2.13',
        // Web UIs bind this address (all interfaces otherwise).
        SPARK_LOCAL_IP: node.address,
        SPARK_LOG_DIR: sparkDir
      };
      const argv = [
        ...node.launcher,
        'java',
        ...sparkJavaArgs({ distribution, mainClass, args, heapMb })
      ];
      const started = await spawnLogged(argv, { cwd: sparkDir, logPath, env, what });
      const made = { what, logPath, ...started };
      processes.push(made);
      return made;
    };
    const stop = async (graceMs: number): Promise<void> => {
      await front?.close();
      if (parent !== undefined) {
        // Leaving the parent's cluster: running tasks finish, blocks move to other executors.
        const leaving = workers.flatMap(({ pid, process: worker, ...rest }) =>
          pid !== undefined && worker.child.exitCode === null ? [{ ...rest, pid }] : []
        );
        const endpoints = leaving.map(each => endpointOf({ host: each.node.address, ...each }));
        if (leaving.length > 0) log(`decommissioning Spark workers ${endpoints.join(', ')}`);
        await retireWorkers({
          workers: leaving,
          credentials,
          timeoutMs: RETIRE_TIMEOUT_MS,
          pollMs: POLL_MS
        }).then(
          ms => log(`Spark workers ${endpoints.join(', ')} have no executors left after ${ms} ms`),
          (error: unknown) =>
            log(`cannot retire Spark workers gracefully: ${(error as Error).message}`)
        );
      }
      // Workers end their executors; the master goes last.
      const master = parent === undefined ? processes[0] : undefined;
      const rest = processes.filter(each => each !== master);
      await Promise.all(rest.map(done => stopProcess(done.child, done.exit, graceMs / 2)));
      if (master !== undefined) await stopProcess(master.child, master.exit, graceMs / 2);
    };
    const anyExited = async (): Promise<void> => {
      for (const each of processes) {
        if (each.child.exitCode !== null || each.child.signalCode !== null) {
          throw new Error(
            `${describeExit(each.what, await each.exit)} while the pilot started${await logTail(each.logPath)}`
          );
        }
      }
    };

    try {
      let masterUrl: string;
      if (parent === undefined) {
        onProgress({ stage: 'Starting the Spark master', fraction: 0.4 });
        const master = await launch(
          firstNode,
          'master',
          'org.apache.spark.deploy.master.Master',
          [
            '--host',
            firstNode.address,
            '--port',
            '0',
            '--webui-port',
            '0',
            '--properties-file',
            propertiesPath
          ],
          DAEMON_HEAP_MB
        );
        const masterPort = await servicePort(master, 'sparkMaster', signal, deadline);
        const masterUiPort = await servicePort(master, 'MasterUI (HTTPS)', signal, deadline);
        masterUrl = `spark://${firstNode.address}:${masterPort}`;
        masterUiAddress = `https://${firstNode.address}:${masterUiPort}`;
      } else {
        masterUrl = parent.details.masterUrl;
      }

      onProgress({
        stage:
          parent === undefined
            ? `Starting ${nodes.length} Spark worker(s) and Spark Connect`
            : `Starting ${nodes.length} Spark worker(s) for ${parent.pilotId}'s master`,
        fraction: 0.6
      });
      const launched = await Promise.all(
        nodes.map(async node => ({
          node,
          process: await launch(
            node,
            'worker',
            'org.apache.spark.deploy.worker.Worker',
            [
              '--host',
              node.address,
              '--port',
              '0',
              '--webui-port',
              '0',
              ...(description.coresPerNode !== undefined
                ? ['--cores', String(description.coresPerNode)]
                : []),
              '--memory',
              `${WORKER_MEMORY_MB}m`,
              '--work-dir',
              workerDir(node),
              '--properties-file',
              propertiesPath,
              masterUrl
            ],
            DAEMON_HEAP_MB
          )
        }))
      );
      let connectAddress = parent?.details.connectAddress;
      if (parent === undefined) {
        const connect = await launch(
          firstNode,
          'connect',
          'org.apache.spark.deploy.SparkSubmit',
          [
            '--master',
            masterUrl,
            '--class',
            CONNECT_SERVER_CLASS,
            '--name',
            `Spark Connect of ${pilotId}`,
            '--properties-file',
            propertiesPath,
            '--conf',
            'spark.connect.grpc.binding.address=127.0.0.1',
            '--conf',
            'spark.connect.grpc.binding.port=0',
            '--conf',
            `spark.driver.host=${firstNode.address}`,
            '--conf',
            `spark.driver.bindAddress=${firstNode.address}`,
            '--conf',
            `spark.local.dir=${join(sparkDir, 'local')}`,
            '--conf',
            `spark.executor.defaultJavaOptions=${executorDefaultJavaOptions()}`,
            ...sparkConfigurationArgs(description.configuration),
            'spark-internal'
          ],
          CONNECT_HEAP_MB
        );
        const connectPort = await servicePort(connect, CONNECT_SERVICE, signal, deadline);
        const [node, key, ca] = await Promise.all(
          [SPARK_TLS_FILES.nodeCert, SPARK_TLS_FILES.nodeKey, SPARK_TLS_FILES.caCert].map(name =>
            readFile(join(tlsDir, name), 'utf8')
          )
        );
        front = await startTlsFront({
          host: firstNode.address,
          cert: node!,
          key: key!,
          ca: ca!,
          target: { host: '127.0.0.1', port: connectPort },
          alpn: ['h2']
        });
        connectAddress = `${firstNode.address}:${front.port}`;
      }

      onProgress({
        stage: `Waiting for ${nodes.length} Spark worker(s) to register`,
        fraction: 0.8
      });
      // Known by the port each bound (a parent's worker may share a child's address).
      for (const { node, process: worker } of launched) {
        const port = await servicePort(worker, 'sparkWorker', signal, deadline);
        const uiPort = await servicePort(worker, 'WorkerUI (HTTPS)', signal, deadline);
        const pid = daemonPid(await readFile(worker.logPath, 'utf8'));
        workers.push({
          node,
          port,
          uiAddress: `https://${node.address}:${uiPort}`,
          workDir: workerDir(node),
          ...(pid !== undefined ? { pid } : {}),
          process: worker
        });
      }
      const expected = workers.map(worker => endpointOf({ host: worker.node.address, ...worker }));
      await untilMasterSays({
        masterUiAddress: masterUiAddress!,
        credentials,
        done: listed => {
          const alive = new Set(
            listed.filter(worker => worker.state === 'ALIVE').map(worker => endpointOf(worker))
          );
          return expected.every(endpoint => alive.has(endpoint));
        },
        describeMissing: listed =>
          `Spark workers ${expected
            .filter(
              endpoint =>
                !listed?.some(worker => endpointOf(worker) === endpoint && worker.state === 'ALIVE')
            )
            .join(', ')} did not register with the master within ${READY_TIMEOUT_S} s`,
        check: anyExited,
        signal,
        deadline,
        pollMs: POLL_MS
      });

      const details: SparkDetails = {
        type: 'spark',
        masterUrl,
        connectAddress: connectAddress!,
        masterUiAddress: masterUiAddress!,
        workers: nodes.map(each => ({ node: each.name, address: each.address, pilotId })),
        sparkVersion: SPARK_VERSION,
        security: 'tls'
      };
      if (parent !== undefined) {
        log(`Spark workers ${expected.join(', ')} joined ${parent.pilotId}'s master ${masterUrl}`);
      }
      return {
        details,
        exited: Promise.race(
          processes.map(async each => {
            const exit = await each.exit;
            return `${describeExit(`${each.what} (pid ${String(each.child.pid)})`, exit)}${await logTail(each.logPath)}`;
          })
        ),
        stop
      };
    } catch (error) {
      await stop(10_000);
      throw error;
    }
  }
}

interface SparkWorker extends Omit<RetiringWorker, 'pid'> {
  /** Unknown when its log does not name it: such a worker is stopped, not decommissioned. */
  pid?: number;
  process: SparkProcess;
}

/** The parent whose master a child's workers join, which must run Spark too. */
function sparkParent(parent: ParentCluster): ParentCluster<SparkDetails> & { workDir: string } {
  if (parent.details.type !== 'spark') {
    throw new Error(
      `Pilot ${parent.pilotId} runs ${parent.details.type}: a Spark pilot's workers join a Spark parent only`
    );
  }
  if (parent.workDir === undefined) {
    throw new Error(
      `Pilot ${parent.pilotId}'s work directory is not known: its RPC secret and authority admit the child's workers`
    );
  }
  return { ...parent, details: parent.details, workDir: parent.workDir };
}

/** The RPC secret in the parent's properties, which the master asks every worker for. */
async function parentSecret(parent: { pilotId: string; workDir: string }): Promise<string> {
  const path = join(parent.workDir, SPARK_DIR, PROPERTIES_FILE);
  const text = await readFile(path, 'utf8').catch((error: unknown) => {
    throw new Error(
      `Cannot read the Spark secret of ${parent.pilotId} (${path}): ${(error as Error).message}`,
      { cause: error }
    );
  });
  const found = /^spark\.authenticate\.secret=(.+)$/m.exec(text);
  if (found === null) throw new Error(`${path} of ${parent.pilotId} holds no Spark secret`);
  return found[1]!;
}
