import { execFile, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeExit } from '../../allocation/exits.js';
import type { PilotNode } from '../../allocation/nodes.js';
import { pythonProgram } from '../../entry-points/roles.js';
import type { DaskDetails } from '../../protocol/index.js';
import { readPilotClientCredentials } from '../certificates.js';
import { logTail } from '../log-tail.js';
import type {
  BootstrapOptions,
  FrameworkBootstrap,
  ParentCluster,
  RunningFramework
} from '../plugin.js';
import { spawnLogged, stopProcess, type Exit } from '../processes.js';
import { BRIDGE_LAUNCH_FILE, type BridgeLaunch } from './bridge-launch.js';
import { daskConfigurationEnv } from './configuration.js';
import { DASK_VERSION, ensureDaskEnvironment, ensureDaskWheels } from './distribution.js';
import { waitForSchedulerFile } from './scheduler-file.js';
import { waitForWorkers } from './scheduler-http.js';
import { DASK_TLS_DIR, daskClientFiles, daskServerTlsArgs, issueDaskCredentials } from './tls.js';

const READY_TIMEOUT_S = 120;
/** Workers stop first (their nannies close them and leave the scheduler), then the scheduler. */
const WORKER_STOP_SHARE = 0.7;

/**
 * What the supervisor asks the scheduler, as a client with the pilot's certificate (the check a
 * user's own client would make): `wait NAMES...` until workers of those names serve it;
 * `retire NAMES...` moves their results to the other workers and closes them (a child leaving).
 */
const SCHEDULER_REQUEST = `
import sys, time
from distributed import Client
from distributed.security import Security
address, ca, cert, key, timeout, action, *names = sys.argv[1:]
security = Security(tls_ca_file=ca, tls_client_cert=cert, tls_client_key=key, require_encryption=True)
with Client(address, security=security, timeout=float(timeout)) as client:
    if action == "wait":
        deadline = time.monotonic() + float(timeout)
        while not set(names) <= {str(w.get("name")) for w in client.scheduler_info(n_workers=-1)["workers"].values()}:
            if time.monotonic() > deadline:
                sys.exit(f"workers {names} did not all join within {timeout} s")
            time.sleep(0.2)
    else:
        client.retire_workers(names=names, close_workers=True)
`;

interface DaskProcess {
  what: string;
  child: ChildProcess;
  exit: Promise<Exit>;
  logPath: string;
}

/** Resource side of Dask: the scheduler on the first node, a worker process on every node. */
export class DaskBootstrap implements FrameworkBootstrap {
  private readonly cacheDir: string;

  constructor(options: { cacheDir: string }) {
    this.cacheDir = options.cacheDir;
  }

  async start(options: BootstrapOptions): Promise<RunningFramework> {
    const { pilotId, workDir, onProgress, signal, nodes, description, log } = options;
    const parent = options.parent !== undefined ? daskParent(options.parent) : undefined;
    const firstNode = nodes[0];
    if (firstNode === undefined) throw new Error(`Pilot ${pilotId} has no node to run Dask on`);
    // Staged by the client onto a resource reached over ssh; fetched here on the client's machine.
    await ensureDaskWheels({ cacheDir: this.cacheDir, onProgress });
    const { python } = await ensureDaskEnvironment({ cacheDir: this.cacheDir, onProgress });
    signal.throwIfAborted();
    const daskDir = join(workDir, 'dask');
    const tlsDir = join(workDir, DASK_TLS_DIR);
    await mkdir(daskDir, { recursive: true, mode: 0o700 });
    const bridge: BridgeLaunch = { python, script: pythonProgram('dask_bridge.py') };
    await writeFile(join(workDir, BRIDGE_LAUNCH_FILE), JSON.stringify(bridge));
    onProgress({ stage: "Issuing the pilot's TLS certificates", fraction: 0.2 });
    // A child's workers join its parent's scheduler: certificates of the parent's authority.
    await issueDaskCredentials({
      pilotId,
      tlsDir,
      hosts: nodes.flatMap(node => [node.address, node.name]),
      ...(parent !== undefined ? { parentTlsDir: join(parent.workDir!, DASK_TLS_DIR) } : {})
    });
    const env = {
      ...process.env,
      ...daskConfigurationEnv(description.configuration),
      DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION: 'True'
    };
    const tls = daskServerTlsArgs(tlsDir);
    // Every scheduler and worker serves HTTP; this makes it mutual TLS too (see the module).
    const preload = ['--preload', pythonProgram('dask_http_tls.py')];

    onProgress({
      stage:
        parent !== undefined ? 'Starting Dask workers' : 'Starting the Dask scheduler and workers',
      fraction: 0.4
    });
    // A pilot's own scheduler picks its ports and writes them here; its workers read them too.
    const schedulerFile = join(daskDir, 'scheduler.json');
    // Known once its scheduler is up (a parent's, from its record).
    let schedulerAddress = parent?.details.schedulerAddress ?? '';
    let dashboardAddress = parent?.details.dashboardAddress;
    const request = (action: 'wait' | 'retire', names: string[]) =>
      schedulerRequest({ python, schedulerAddress, tlsDir, cwd: daskDir, action, names });
    const launch = async (node: PilotNode, role: string, args: string[]): Promise<DaskProcess> => {
      const what = `the Dask ${role} on ${node.name}`;
      const logPath = join(daskDir, `${role}-${node.name}.log`);
      const argv = [...node.launcher, python, '-m', 'dask', role, ...args, ...tls, ...preload];
      return { what, logPath, ...(await spawnLogged(argv, { cwd: daskDir, logPath, env, what })) };
    };
    const scheduler =
      parent === undefined
        ? await launch(firstNode, 'scheduler', [
            '--host',
            firstNode.address,
            '--port',
            '0',
            '--dashboard-address',
            `${firstNode.address}:0`,
            '--scheduler-file',
            schedulerFile
          ])
        : undefined;
    const workers: DaskProcess[] = [];
    const workerNames = nodes.map(node => `${pilotId}-${node.name}`);
    const stop = async (graceMs: number): Promise<void> => {
      const workerGrace = Math.round(graceMs * WORKER_STOP_SHARE);
      if (parent !== undefined) {
        // Leaving a parent's cluster: results move to its other workers before these close.
        await request('retire', workerNames).catch((error: unknown) =>
          log(
            `cannot retire workers ${workerNames.join(', ')} gracefully: ${(error as Error).message}`
          )
        );
      }
      await Promise.all(workers.map(worker => stopProcess(worker.child, worker.exit, workerGrace)));
      if (scheduler !== undefined) {
        await stopProcess(scheduler.child, scheduler.exit, graceMs - workerGrace);
      }
    };
    const processes = (): DaskProcess[] => [
      ...(scheduler !== undefined ? [scheduler] : []),
      ...workers
    ];
    try {
      const started = await Promise.all(
        nodes.map((node, index) =>
          launch(node, 'worker', [
            // Workers wait for their scheduler's file (on the work directory every node sees).
            ...(parent !== undefined ? [schedulerAddress] : ['--scheduler-file', schedulerFile]),
            '--name',
            workerNames[index]!,
            '--nworkers',
            '1',
            ...(description.coresPerNode !== undefined
              ? ['--nthreads', String(description.coresPerNode)]
              : []),
            '--host',
            node.address,
            '--no-dashboard',
            // Its HTTP server (health, metrics) on the node's address, a port of its choosing.
            '--dashboard-address',
            `${node.address}:0`,
            '--local-directory',
            join(daskDir, `worker-${node.name}`),
            // As patient as the pilot: a worker (and its nanny) starting on a busy node may
            // take as long as the pilot waits for it, and gives up no earlier.
            '--death-timeout',
            String(READY_TIMEOUT_S)
          ])
        )
      );
      workers.push(...started);
      if (parent === undefined) {
        const written = await untilFirstExit(
          waitForSchedulerFile(schedulerFile, { timeoutMs: READY_TIMEOUT_S * 1000, signal }),
          processes(),
          signal
        );
        schedulerAddress = written.address;
        dashboardAddress = `https://${firstNode.address}:${written.dashboardPort}`;
      }
      onProgress({ stage: `Waiting for ${nodes.length} Dask worker(s) to join`, fraction: 0.6 });
      // The scheduler's HTTP server says which workers serve it (a Python client, for a parent
      // recorded before dashboards, takes a second longer to start).
      const waiting = new AbortController();
      const stopWaiting = (): void => waiting.abort(signal.reason);
      signal.addEventListener('abort', stopWaiting, { once: true });
      try {
        await untilFirstExit(
          dashboardAddress !== undefined
            ? waitForWorkers({
                dashboardAddress,
                credentials: await readPilotClientCredentials(
                  tlsDir,
                  path => readFile(path),
                  'Dask'
                ),
                names: workerNames,
                timeoutMs: READY_TIMEOUT_S * 1000,
                signal: waiting.signal
              })
            : request('wait', workerNames),
          processes(),
          signal
        );
      } finally {
        waiting.abort();
        signal.removeEventListener('abort', stopWaiting);
      }
    } catch (error) {
      await stop(10_000);
      throw error;
    }
    const details: DaskDetails = {
      type: 'dask',
      schedulerAddress,
      ...(dashboardAddress !== undefined ? { dashboardAddress } : {}),
      workers: nodes.map((node, index) => ({
        name: workerNames[index]!,
        node: node.name,
        pilotId
      })),
      daskVersion: DASK_VERSION,
      security: 'tls'
    };
    if (parent !== undefined)
      log(`workers ${workerNames.join(', ')} joined ${parent.pilotId}'s cluster`);
    return {
      details,
      exited: Promise.race(
        processes().map(async process => {
          const exit = await process.exit;
          return `${describeExit(`${process.what} (pid ${String(process.child.pid)})`, exit)}${await logTail(process.logPath)}`;
        })
      ),
      stop
    };
  }
}

/** The parent whose scheduler a child's workers join, which must run Dask too. */
function daskParent(parent: ParentCluster): ParentCluster<DaskDetails> {
  if (parent.details.type !== 'dask') {
    throw new Error(
      `Pilot ${parent.pilotId} runs ${parent.details.type}: a Dask pilot's workers join a Dask parent only`
    );
  }
  if (parent.workDir === undefined) {
    throw new Error(
      `Pilot ${parent.pilotId}'s work directory is not known: its authority signs the child's certificates`
    );
  }
  return { ...parent, details: parent.details };
}

/** Runs SCHEDULER_REQUEST; rejects with Python's last lines when it fails. */
function schedulerRequest(options: {
  python: string;
  schedulerAddress: string;
  tlsDir: string;
  cwd: string;
  action: 'wait' | 'retire';
  names: string[];
}): Promise<void> {
  const files = daskClientFiles(options.tlsDir);
  return new Promise((resolve, reject) => {
    execFile(
      options.python,
      [
        '-c',
        SCHEDULER_REQUEST,
        options.schedulerAddress,
        files.ca,
        files.cert,
        files.key,
        String(READY_TIMEOUT_S),
        options.action,
        ...options.names
      ],
      { cwd: options.cwd, maxBuffer: 4 * 1024 * 1024, timeout: (READY_TIMEOUT_S + 30) * 1000 },
      (error, _stdout, stderr) => {
        if (error === null) {
          resolve();
          return;
        }
        const lines = stderr.split('\n').filter(line => line.trim() !== '');
        const verb = options.action === 'wait' ? 'join' : 'retire from';
        reject(
          new Error(
            `Dask workers ${options.names.join(', ')} did not ${verb} the scheduler at ${options.schedulerAddress}: ${lines.slice(-4).join('\n') || error.message}`
          )
        );
      }
    );
  });
}

/**
 * Resolves with `work`, unless one of `processes` exits first or start-up is aborted (then
 * rejects with why).
 */
async function untilFirstExit<T>(
  work: Promise<T>,
  processes: DaskProcess[],
  signal: AbortSignal
): Promise<T> {
  const exited = Promise.race(
    processes.map(async process => {
      const exit = await process.exit;
      throw new Error(
        `${describeExit(process.what, exit)} while the pilot started${await logTail(process.logPath)}`
      );
    })
  );
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, exited, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort!);
    // The race's losers must not be reported as unhandled.
    for (const loser of [work, exited, aborted]) loser.catch(() => undefined);
  }
}
