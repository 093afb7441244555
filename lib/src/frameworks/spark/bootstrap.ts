import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeExit } from '../../allocation/exits.js';
import type { PilotNode } from '../../allocation/nodes.js';
import type { SparkDetails } from '../../protocol/index.js';
import { readPilotClientCredentials, writeSecret } from '../certificates.js';
import { getJson } from '../https-json.js';
import { lastLines } from '../log-tail.js';
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
import { issueSparkCredentials, SPARK_TLS_DIR, SPARK_TLS_FILES, type SparkStores } from './tls.js';

/** Where a Spark pilot keeps its files, relative to its work directory. */
export const SPARK_DIR = 'spark';
/** The Connect server's token (0600), which clients send with every call. */
export const CONNECT_TOKEN_FILE = 'connect.token';

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

/** The end of a log for a reason text. */
async function logTail(path: string): Promise<string> {
  const lines = await lastLines(path, 200);
  return lines.length > 0 ? `; last log lines:\n${lines.slice(-8).join('\n')}` : '';
}

/**
 * The properties every Spark process of the pilot reads (0600): RPC authenticated with the
 * pilot's secret and encrypted; web UIs HTTPS with client certificates; the Connect token.
 */
function securityProperties(secret: string, token: string, stores: SparkStores): string {
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
    'spark.connect.authenticate.token': token
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
    const { pilotId, workDir, onProgress, signal, nodes, description } = options;
    if (options.parent !== undefined) sparkParent(options.parent);
    const firstNode = nodes[0];
    if (firstNode === undefined) throw new Error(`Pilot ${pilotId} has no node to run Spark on`);
    const distribution = await ensureSparkDistribution({ cacheDir: this.cacheDir, onProgress });
    signal.throwIfAborted();
    const sparkDir = join(workDir, SPARK_DIR);
    const tlsDir = join(workDir, SPARK_TLS_DIR);
    await mkdir(sparkDir, { recursive: true, mode: 0o700 });
    const home = await makeSparkHome(sparkDir, distribution);

    onProgress({ stage: "Issuing the pilot's TLS certificates and secrets", fraction: 0.2 });
    const stores = await issueSparkCredentials({
      pilotId,
      tlsDir,
      hosts: nodes.flatMap(node => [node.address, node.name])
    });
    const token = randomBytes(32).toString('hex');
    const propertiesPath = join(sparkDir, 'spark.properties');
    await writeSecret(
      propertiesPath,
      securityProperties(randomBytes(32).toString('hex'), token, stores)
    );
    await writeSecret(join(sparkDir, CONNECT_TOKEN_FILE), token);

    const deadline = Date.now() + READY_TIMEOUT_S * 1000;
    const processes: SparkProcess[] = [];
    let front: TlsFront | undefined;
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
      // Workers end their executors; the master goes last.
      const [master, ...rest] = processes;
      await Promise.all(rest.map(done => stopProcess(done.child, done.exit, graceMs / 2)));
      if (master !== undefined) await stopProcess(master.child, master.exit, graceMs / 2);
    };

    try {
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
      const masterUrl = `spark://${firstNode.address}:${masterPort}`;
      const masterUiAddress = `https://${firstNode.address}:${masterUiPort}`;

      onProgress({
        stage: `Starting ${nodes.length} Spark worker(s) and Spark Connect`,
        fraction: 0.6
      });
      await Promise.all(
        nodes.map(node =>
          launch(
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
              join(sparkDir, `work-${node.name}`),
              '--properties-file',
              propertiesPath,
              masterUrl
            ],
            DAEMON_HEAP_MB
          )
        )
      );
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

      onProgress({
        stage: `Waiting for ${nodes.length} Spark worker(s) to register`,
        fraction: 0.8
      });
      const credentials = await readPilotClientCredentials(tlsDir, path => readFile(path), 'Spark');
      await waitForWorkers({
        masterUiAddress,
        credentials,
        addresses: nodes.map(each => each.address),
        processes,
        signal,
        deadline
      });

      const details: SparkDetails = {
        type: 'spark',
        masterUrl,
        connectAddress: `${firstNode.address}:${front.port}`,
        masterUiAddress,
        workers: nodes.map(each => ({ node: each.name, address: each.address, pilotId })),
        sparkVersion: SPARK_VERSION,
        security: 'tls'
      };
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

interface MasterState {
  workers?: { host?: string; state?: string }[];
}

/** Resolves once an ALIVE worker on each of `addresses` is registered with the master. */
async function waitForWorkers(options: {
  masterUiAddress: string;
  credentials: Awaited<ReturnType<typeof readPilotClientCredentials>>;
  addresses: string[];
  processes: SparkProcess[];
  signal: AbortSignal;
  deadline: number;
}): Promise<void> {
  let missing = [...options.addresses];
  let lastError: Error | undefined;
  for (;;) {
    options.signal.throwIfAborted();
    for (const each of options.processes) {
      if (each.child.exitCode !== null || each.child.signalCode !== null) {
        throw new Error(
          `${describeExit(each.what, await each.exit)} while the pilot started${await logTail(each.logPath)}`
        );
      }
    }
    try {
      const state = (await getJson(
        options.masterUiAddress,
        '/json/',
        options.credentials
      )) as MasterState;
      const alive = new Set(
        (state.workers ?? []).filter(worker => worker.state === 'ALIVE').map(worker => worker.host)
      );
      missing = options.addresses.filter(address => !alive.has(address));
      lastError = undefined;
      if (missing.length === 0) return;
    } catch (error) {
      lastError = error as Error;
    }
    if (Date.now() > options.deadline) {
      throw new Error(
        `Spark workers on ${missing.join(', ')} did not register with the master within ${READY_TIMEOUT_S} s` +
          (lastError !== undefined ? ` (last answer: ${lastError.message})` : '')
      );
    }
    await new Promise(resolve => setTimeout(resolve, POLL_MS));
  }
}

/** Growing a Spark pilot through a child is not built yet: said before anything starts. */
function sparkParent(parent: ParentCluster): never {
  throw new Error(
    `Pilot ${parent.pilotId}: a Spark pilot cannot yet grow through a child pilot (parent); start a larger one`
  );
}
