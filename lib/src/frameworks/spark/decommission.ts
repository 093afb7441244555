import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PilotNode } from '../../allocation/nodes.js';
import type { ClientCredentials } from '../certificates.js';
import { endpointOf, workerExecutors, type RunningExecutor } from './master-state.js';

/**
 * Graceful removal of a Spark worker: with `spark.decommission.enabled`, a worker that gets
 * SIGPWR tells the master it is leaving; the master stops giving it executors and tells the
 * applications, whose executors there take no new tasks, hand their shuffle and cached blocks
 * to other executors (`spark.storage.decommission.enabled`) and exit once their running tasks
 * are done. An executor still starting when its worker leaves is unknown to its application
 * then and would never hear of it: it gets SIGPWR itself once it handles the signal. Signals go
 * to the JVMs themselves: srun, which starts them on another node, does not pass SIGPWR on.
 */

/**
 * An executor logs that it registers its SIGPWR handler just before it does: a signal in
 * between is lost, so one that has not said it decommissions is signalled again after this.
 */
const RESIGNAL_MS = 2_000;

/** A worker of the pilot, as the supervisor knows it. */
export interface RetiringWorker {
  node: PilotNode;
  /** Its RPC port, which names it (with its node's address) and its executors' --worker-url. */
  port: number;
  /** The JVM's pid on its node (from its log). */
  pid: number;
  /** Its web UI ("https://node:port", mutual TLS), which tells its running executors. */
  uiAddress: string;
  /** Its --work-dir, where each executor's output is `<app id>/<executor id>/stderr`. */
  workDir: string;
}

/** Spark's daemons log "Started daemon with process name: <pid>@<host>" first. */
export function daemonPid(log: string): number | undefined {
  const found = /Started daemon with process name: (\d+)@/.exec(log);
  return found !== null ? Number(found[1]) : undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A `pkill -f` pattern for one executor's command line, whose arguments come in this order:
 * `--executor-id N ... --app-id APP --worker-url spark://Worker@HOST:PORT`.
 */
export function executorCommandPattern(
  executor: RunningExecutor,
  worker: { host: string; port: number }
): string {
  return (
    `--executor-id ${executor.id} .*--app-id ${escapeRegExp(executor.appId)} ` +
    `--worker-url spark://Worker@${escapeRegExp(endpointOf(worker))}( |$)`
  );
}

/**
 * Whether an executor's output says it handles SIGPWR but has not been told to decommission
 * (a signal before its handler is in place would kill it).
 */
export function awaitsDecommission(stderr: string): boolean {
  return stderr.includes('Registering SIGPWR handler') && !stderr.includes('Decommission executor');
}

/** Runs a signalling command on `node` (through its launcher); pkill's "none matched" is fine. */
function signalOnNode(node: PilotNode, argv: string[], what: string): Promise<void> {
  const command = [...node.launcher, ...argv];
  return new Promise((resolve, reject) => {
    execFile(command[0]!, command.slice(1), (error, _stdout, stderr) => {
      if (error === null || (argv[0] === 'pkill' && error.code === 1)) resolve();
      else
        reject(
          new Error(`Cannot signal ${what} on ${node.name}: ${stderr.trim() || error.message}`)
        );
    });
  });
}

/**
 * Decommissions `workers` and waits until none runs an executor any more (their executors have
 * finished their running tasks and handed their blocks on), or `timeoutMs`. Returns how long it
 * took.
 */
export async function retireWorkers(options: {
  workers: RetiringWorker[];
  credentials: ClientCredentials;
  timeoutMs: number;
  pollMs: number;
}): Promise<number> {
  const { workers, credentials } = options;
  const started = Date.now();
  await Promise.all(
    workers.map(worker =>
      signalOnNode(worker.node, ['kill', '-s', 'PWR', String(worker.pid)], 'the Spark worker')
    )
  );
  /** When each executor was last signalled: again after a while if it has not heard. */
  const signalled = new Map<string, number>();
  let busy = workers;
  let lastError: Error | undefined;
  for (;;) {
    const running = await Promise.all(
      busy.map(worker =>
        workerExecutors(worker.uiAddress, credentials).catch((error: unknown) => {
          lastError = error as Error;
          return undefined;
        })
      )
    );
    const left = busy.filter(
      (_, index) => running[index] === undefined || running[index].length > 0
    );
    if (left.length === 0) return Date.now() - started;
    for (const [index, worker] of busy.entries()) {
      for (const executor of running[index] ?? []) {
        const key = `${endpointOf({ host: worker.node.address, port: worker.port })}/${executor.appId}/${executor.id}`;
        if (Date.now() - (signalled.get(key) ?? 0) < RESIGNAL_MS) continue;
        const stderr = await readFile(
          join(worker.workDir, executor.appId, String(executor.id), 'stderr'),
          'utf8'
        ).catch(() => '');
        if (!awaitsDecommission(stderr)) continue;
        signalled.set(key, Date.now());
        await signalOnNode(
          worker.node,
          [
            'pkill',
            '-PWR',
            '-f',
            '--',
            executorCommandPattern(executor, { host: worker.node.address, port: worker.port })
          ],
          `executor ${executor.id} of ${executor.appId}`
        );
      }
    }
    busy = left;
    if (Date.now() - started > options.timeoutMs) {
      throw new Error(
        `executors on ${busy.map(worker => endpointOf({ host: worker.node.address, port: worker.port })).join(', ')} were still running after ${options.timeoutMs / 1000} s` +
          (lastError !== undefined ? ` (last answer: ${lastError.message})` : '')
      );
    }
    await new Promise(resolve => setTimeout(resolve, options.pollMs));
  }
}
