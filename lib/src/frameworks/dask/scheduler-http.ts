import type { ClientCredentials } from '../certificates.js';
import { getJson } from '../https-json.js';

/**
 * The scheduler's own account of its workers, from its HTTP server (`/json/identity.json`,
 * mutual TLS with the pilot's client certificate): what the supervisor waits on before it says
 * Running, without starting a Python client for it.
 */

const POLL_MS = 200;

interface Identity {
  workers?: Record<string, { name?: unknown }>;
}

/** The names of the workers the scheduler has now. */
export async function schedulerWorkerNames(
  dashboardAddress: string,
  credentials: ClientCredentials
): Promise<string[]> {
  const identity = (await getJson(
    dashboardAddress,
    '/json/identity.json',
    credentials
  )) as Identity;
  return Object.values(identity.workers ?? {}).map(worker => String(worker.name));
}

/**
 * Resolves once workers of all `names` serve the scheduler; rejects after `timeoutMs` naming
 * those missing and the last error, or when `signal` aborts. A scheduler still starting (its
 * port not yet open) is asked again.
 */
export async function waitForWorkers(options: {
  dashboardAddress: string;
  credentials: ClientCredentials;
  names: readonly string[];
  timeoutMs: number;
  signal: AbortSignal;
}): Promise<void> {
  const { dashboardAddress, credentials, names, timeoutMs, signal } = options;
  const deadline = Date.now() + timeoutMs;
  let missing = [...names];
  let lastError: Error | undefined;
  for (;;) {
    signal.throwIfAborted();
    try {
      const present = new Set(await schedulerWorkerNames(dashboardAddress, credentials));
      missing = names.filter(name => !present.has(name));
      lastError = undefined;
      if (missing.length === 0) return;
    } catch (error) {
      lastError = error as Error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Dask workers ${missing.join(', ')} did not join the scheduler within ${Math.round(timeoutMs / 1000)} s` +
          (lastError !== undefined ? ` (last answer: ${lastError.message})` : '')
      );
    }
    await new Promise(resolve => setTimeout(resolve, POLL_MS));
  }
}
