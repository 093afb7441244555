import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeExit } from '../../allocation/exits.js';
import { freePortsOn, type PilotNode } from '../../allocation/nodes.js';
import { pythonProgram } from '../../entry-points/roles.js';
import type { DaskDetails, PilotDescription } from '../../protocol/index.js';
import { lastLines } from '../log-tail.js';
import type {
  FrameworkBootstrap,
  ParentCluster,
  ProgressListener,
  RunningFramework
} from '../plugin.js';
import { spawnLogged, stopProcess, type Exit } from '../processes.js';
import { BRIDGE_LAUNCH_FILE, type BridgeLaunch } from './bridge-launch.js';
import { DASK_VERSION, ensureDaskEnvironment, ensureDaskWheels } from './distribution.js';
import { DASK_TLS_DIR, daskClientFiles, daskServerTlsArgs, issueDaskCredentials } from './tls.js';

const READY_TIMEOUT_S = 120;
/** Workers stop first (their nannies close them and leave the scheduler), then the scheduler. */
const WORKER_STOP_SHARE = 0.7;

/**
 * Waits until the scheduler at argv[1] has argv[5] workers, connecting as a client with the
 * pilot's certificate (argv[2..4]) — the check a user's own client would make.
 */
const WAIT_FOR_WORKERS = `
import sys
from distributed import Client
from distributed.security import Security
address, ca, cert, key, count, timeout = sys.argv[1:7]
security = Security(tls_ca_file=ca, tls_client_cert=cert, tls_client_key=key, require_encryption=True)
with Client(address, security=security, timeout=float(timeout)) as client:
    client.wait_for_workers(int(count), timeout=float(timeout))
`;

interface DaskProcess {
  what: string;
  child: import('node:child_process').ChildProcess;
  exit: Promise<Exit>;
  logPath: string;
}

/** The end of a log for a reason text (Python's last traceback lines say what went wrong). */
async function logTail(path: string): Promise<string> {
  const lines = await lastLines(path, 200);
  return lines.length > 0 ? `; last log lines:\n${lines.slice(-8).join('\n')}` : '';
}

/** Resource side of Dask: the scheduler on the first node, a worker process on every node. */
export class DaskBootstrap implements FrameworkBootstrap {
  private readonly cacheDir: string;

  constructor(options: { cacheDir: string }) {
    this.cacheDir = options.cacheDir;
  }

  async start(options: {
    pilotId: string;
    description: PilotDescription;
    workDir: string;
    onProgress: ProgressListener;
    signal: AbortSignal;
    nodes: PilotNode[];
    parent?: ParentCluster;
    log: (message: string) => void;
  }): Promise<RunningFramework> {
    const { pilotId, workDir, onProgress, signal, nodes, description } = options;
    if (options.parent !== undefined) {
      throw new Error(`Pilot ${pilotId}: a Dask pilot cannot extend another pilot yet`);
    }
    const schedulerNode = nodes[0];
    if (schedulerNode === undefined) throw new Error(`Pilot ${pilotId} has no node to run Dask on`);
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
    await issueDaskCredentials({
      pilotId,
      tlsDir,
      hosts: nodes.flatMap(node => [node.address, node.name])
    });
    const env = { ...process.env, DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION: 'True' };
    const tls = daskServerTlsArgs(tlsDir);

    onProgress({ stage: 'Starting the Dask scheduler and workers', fraction: 0.4 });
    const [port] = await freePortsOn(schedulerNode, 1);
    const schedulerAddress = `tls://${schedulerNode.address}:${port!}`;
    const launch = async (node: PilotNode, role: string, args: string[]): Promise<DaskProcess> => {
      const what = `the Dask ${role} on ${node.name}`;
      const logPath = join(daskDir, `${role}-${node.name}.log`);
      const argv = [...node.launcher, python, '-m', 'dask', role, ...args, ...tls];
      return { what, logPath, ...(await spawnLogged(argv, { cwd: daskDir, logPath, env, what })) };
    };
    const processes: DaskProcess[] = [];
    const workerNames = nodes.map(node => `${pilotId}-${node.name}`);
    try {
      processes.push(
        await launch(schedulerNode, 'scheduler', [
          '--host',
          schedulerNode.address,
          '--port',
          String(port),
          '--no-dashboard',
          '--scheduler-file',
          join(daskDir, 'scheduler.json')
        ])
      );
      const workers = await Promise.all(
        nodes.map((node, index) =>
          launch(node, 'worker', [
            schedulerAddress,
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
            '--local-directory',
            join(daskDir, `worker-${node.name}`),
            '--death-timeout',
            '60'
          ])
        )
      );
      processes.push(...workers);
      onProgress({ stage: `Waiting for ${nodes.length} Dask worker(s) to join`, fraction: 0.6 });
      await waitForWorkers({
        python,
        schedulerAddress,
        tlsDir,
        count: nodes.length,
        processes,
        signal,
        cwd: daskDir
      });
    } catch (error) {
      await stopAll(processes, 10_000);
      throw error;
    }
    const details: DaskDetails = {
      type: 'dask',
      schedulerAddress,
      workers: nodes.map((node, index) => ({
        name: workerNames[index]!,
        node: node.name,
        pilotId
      })),
      daskVersion: DASK_VERSION,
      security: 'tls'
    };
    return {
      details,
      exited: Promise.race(
        processes.map(async process => {
          const exit = await process.exit;
          return `${describeExit(`${process.what} (pid ${String(process.child.pid)})`, exit)}${await logTail(process.logPath)}`;
        })
      ),
      stop: graceMs => stopAll(processes, graceMs)
    };
  }
}

/** Workers first, then the scheduler, each SIGTERM then SIGKILL after its share of `graceMs`. */
async function stopAll(processes: DaskProcess[], graceMs: number): Promise<void> {
  const [scheduler, ...workers] = processes;
  const workerGrace = Math.round(graceMs * WORKER_STOP_SHARE);
  await Promise.all(workers.map(worker => stopProcess(worker.child, worker.exit, workerGrace)));
  if (scheduler !== undefined) {
    await stopProcess(scheduler.child, scheduler.exit, graceMs - workerGrace);
  }
}

/**
 * Resolves once `count` workers serve the scheduler; rejects with the reason when a process
 * exits first, the probe fails or start-up is aborted.
 */
async function waitForWorkers(options: {
  python: string;
  schedulerAddress: string;
  tlsDir: string;
  count: number;
  processes: DaskProcess[];
  signal: AbortSignal;
  cwd: string;
}): Promise<void> {
  const files = daskClientFiles(options.tlsDir);
  const probe = new AbortController();
  const abort = () => probe.abort();
  options.signal.addEventListener('abort', abort, { once: true });
  const exited = Promise.race(
    options.processes.map(async process => {
      const exit = await process.exit;
      throw new Error(
        `${describeExit(process.what, exit)} while the pilot started${await logTail(process.logPath)}`
      );
    })
  );
  const ready = new Promise<void>((resolve, reject) => {
    execFile(
      options.python,
      [
        '-c',
        WAIT_FOR_WORKERS,
        options.schedulerAddress,
        files.ca,
        files.cert,
        files.key,
        String(options.count),
        String(READY_TIMEOUT_S)
      ],
      { cwd: options.cwd, signal: probe.signal, maxBuffer: 4 * 1024 * 1024 },
      (error, _stdout, stderr) => {
        if (error === null) resolve();
        else if (options.signal.aborted) reject(options.signal.reason as Error);
        else {
          const lines = stderr.split('\n').filter(line => line.trim() !== '');
          reject(
            new Error(
              `${options.count} Dask worker(s) did not join the scheduler at ${options.schedulerAddress}: ${lines.slice(-4).join('\n') || error.message}`
            )
          );
        }
      }
    );
  });
  try {
    await Promise.race([ready, exited]);
  } finally {
    probe.abort();
    options.signal.removeEventListener('abort', abort);
    // The race's loser must not be reported as unhandled.
    exited.catch(() => undefined);
    ready.catch(() => undefined);
  }
}
