import { spawn, type ChildProcess } from 'node:child_process';
import { open } from 'node:fs/promises';

/** How a framework's process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Resolves with the exit; rejects, naming `what`, when the program cannot be run at all. */
export function exitOf(child: ChildProcess, what: string): Promise<Exit> {
  return new Promise((resolve, reject) => {
    child.once('error', error => reject(new Error(`Cannot run ${what}: ${error.message}`)));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/**
 * Starts `argv` with its output appended to `logPath` (0600), in the supervisor's session so that
 * cancelling the pilot's process group reaches it; resolves once it runs.
 */
export async function spawnLogged(
  argv: readonly string[],
  options: { cwd: string; logPath: string; env?: NodeJS.ProcessEnv; what: string }
): Promise<{ child: ChildProcess; exit: Promise<Exit> }> {
  const log = await open(options.logPath, 'a', 0o600);
  try {
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: options.cwd,
      stdio: ['ignore', log.fd, log.fd],
      ...(options.env !== undefined ? { env: options.env } : {})
    });
    const exit = exitOf(child, options.what);
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', error =>
        reject(new Error(`Cannot start ${options.what}: ${error.message}`))
      );
    });
    return { child, exit };
  } finally {
    await log.close();
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
export async function stopProcess(
  child: ChildProcess,
  exit: Promise<Exit>,
  graceMs: number
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = new Promise<'timeout'>(resolve => {
    const handle = setTimeout(() => resolve('timeout'), graceMs);
    void exit.then(() => clearTimeout(handle));
  });
  if ((await Promise.race([exit, timer])) === 'timeout') {
    child.kill('SIGKILL');
    await exit;
  }
}
