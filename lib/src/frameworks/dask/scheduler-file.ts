import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The scheduler's own record of where it listens (`--scheduler-file`), written once it serves.
 * The scheduler binds port 0 for its comm and its HTTP server, so no other process can take a
 * port picked for it in between (Dask would then quietly serve HTTP on another port).
 */

const POLL_MS = 100;

export interface SchedulerFile {
  /** e.g. "tls://127.0.0.1:40123". */
  address: string;
  /** The port of its HTTP server (dashboard, JSON routes). */
  dashboardPort: number;
}

/** What a scheduler file says; undefined while it is missing or half written. */
export function parseSchedulerFile(text: string): SchedulerFile | undefined {
  let parsed: { address?: unknown; services?: { dashboard?: unknown } };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    // The scheduler writes it with a plain json.dump: a read may see part of it.
    return undefined;
  }
  const { address } = parsed;
  const dashboardPort = parsed.services?.dashboard;
  if (typeof address !== 'string' || typeof dashboardPort !== 'number') return undefined;
  return { address, dashboardPort };
}

/** Waits for the scheduler file at `path`; rejects after `timeoutMs` or once `signal` aborts. */
export async function waitForSchedulerFile(
  path: string,
  options: { timeoutMs: number; signal: AbortSignal }
): Promise<SchedulerFile> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    options.signal.throwIfAborted();
    const text = await readFile(path, 'utf8').catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw error;
    });
    const found = parseSchedulerFile(text);
    if (found !== undefined) return found;
    if (Date.now() > deadline) {
      throw new Error(
        `the Dask scheduler wrote no scheduler file (${path}) within ${Math.round(options.timeoutMs / 1000)} s`
      );
    }
    await sleep(POLL_MS, undefined, { signal: options.signal });
  }
}
