import type { ClientCredentials } from '../certificates.js';
import { getJson } from '../https-json.js';

/**
 * What a Spark master's UI says of its workers, and a worker's of its executors (`/json/`,
 * HTTPS with the pilot's client certificate): how the supervisor sees workers join and leave.
 */

export interface MasterWorker {
  host: string;
  port: number;
  /** ALIVE, DEAD, DECOMMISSIONED, UNKNOWN. */
  state: string;
  cores: number;
  coresUsed: number;
}

/** A worker's RPC endpoint, the way the master names it. */
export function endpointOf(worker: { host: string; port: number }): string {
  return `${worker.host}:${worker.port}`;
}

interface MasterJson {
  workers?: {
    host?: string;
    port?: number;
    state?: string;
    cores?: number;
    coresused?: number;
  }[];
}

/** The path at which the master's UI (and a worker's) answers its state as JSON. */
export const MASTER_STATE_PATH = '/json/';

export async function masterWorkers(
  masterUiAddress: string,
  credentials: ClientCredentials
): Promise<MasterWorker[]> {
  return workersOf(await getJson(masterUiAddress, MASTER_STATE_PATH, credentials));
}

/** The workers in the master's JSON state. */
export function workersOf(json: unknown): MasterWorker[] {
  const state = json as MasterJson;
  return (state.workers ?? []).map(worker => ({
    host: worker.host ?? '',
    port: worker.port ?? 0,
    state: worker.state ?? 'UNKNOWN',
    cores: worker.cores ?? 0,
    coresUsed: worker.coresused ?? 0
  }));
}

/**
 * Polls the master until `done` holds for its workers; rejects with `describeMissing`'s text
 * (and the last error) at `deadline`. `check` runs first on every round (e.g. to fail when a
 * process has exited).
 */
export async function untilMasterSays(options: {
  masterUiAddress: string;
  credentials: ClientCredentials;
  done: (workers: MasterWorker[]) => boolean;
  describeMissing: (workers: MasterWorker[] | undefined) => string;
  check?: () => Promise<void>;
  signal?: AbortSignal;
  deadline: number;
  pollMs: number;
}): Promise<void> {
  let last: MasterWorker[] | undefined;
  let lastError: Error | undefined;
  for (;;) {
    options.signal?.throwIfAborted();
    await options.check?.();
    try {
      last = await masterWorkers(options.masterUiAddress, options.credentials);
      lastError = undefined;
      if (options.done(last)) return;
    } catch (error) {
      lastError = error as Error;
    }
    if (Date.now() > options.deadline) {
      throw new Error(
        options.describeMissing(last) +
          (lastError !== undefined ? ` (last answer: ${lastError.message})` : '')
      );
    }
    await new Promise(resolve => setTimeout(resolve, options.pollMs));
  }
}

interface WorkerJson {
  executors?: { id?: number; appid?: string }[];
}

/** An executor a worker runs, named as in its launch (`--app-id`, `--executor-id`). */
export interface RunningExecutor {
  appId: string;
  id: number;
}

/**
 * The executors a worker runs, from its own UI (`/json/`): the master keeps counting the cores
 * of a decommissioned worker's executors after they have exited.
 */
export async function workerExecutors(
  workerUiAddress: string,
  credentials: ClientCredentials
): Promise<RunningExecutor[]> {
  const state = (await getJson(workerUiAddress, MASTER_STATE_PATH, credentials)) as WorkerJson;
  return (state.executors ?? []).map(executor => ({
    appId: executor.appid ?? '',
    id: executor.id ?? -1
  }));
}
