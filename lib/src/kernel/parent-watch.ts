/**
 * A kernel whose Jupyter server died without shutting it down (killed, crashed) ends by itself,
 * as ipykernel's parent poller makes a Python kernel do; otherwise it stays behind as an orphan
 * holding its ports and its pilots' connections. The parent is gone when this process has been
 * re-parented (the server started it directly), or when the process Jupyter names in
 * JPY_PARENT_PID no longer exists (a launcher stood in between).
 */

import { processExists } from '../host/process-exists.js';

const POLL_MS = 1000;

export interface ParentWatchOptions {
  /** The environment the kernel started with (for JPY_PARENT_PID). */
  env?: NodeJS.ProcessEnv;
  /** This process's parent pid now. */
  parentPid?: () => number;
  /** Whether a process of this pid exists. */
  exists?: (pid: number) => boolean;
  intervalMs?: number;
}

/** Calls `onGone` once, when the parent is gone; `stop()` ends the watch. */
export function watchParent(
  onGone: (why: string) => void,
  options: ParentWatchOptions = {}
): { stop(): void } {
  const env = options.env ?? process.env;
  const parentPid = options.parentPid ?? (() => process.ppid);
  const exists = options.exists ?? processExists;
  const startParent = parentPid();
  const named = Number(env.JPY_PARENT_PID);
  const jupyter = Number.isInteger(named) && named > 1 ? named : undefined;
  const timer = setInterval(() => {
    let why: string | undefined;
    if (startParent > 1 && parentPid() !== startParent) {
      why = `its parent process ${startParent} is gone`;
    } else if (jupyter !== undefined && !exists(jupyter)) {
      why = `the Jupyter process ${jupyter} (JPY_PARENT_PID) is gone`;
    }
    if (why !== undefined) {
      clearInterval(timer);
      onGone(why);
    }
  }, options.intervalMs ?? POLL_MS);
  // The watch alone does not keep the kernel running.
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
