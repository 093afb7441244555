import { spawn } from 'node:child_process';
import { open, readFile, readdir } from 'node:fs/promises';
import { parseProcessStat } from '../../src/resource/fork/processes.js';

/** A process the testbed started: its pid and start time name it, whatever happens to the pid. */
export interface Daemon {
  name: string;
  pid: number;
  startTime: string;
  logPath: string;
}

async function statOf(pid: number): Promise<ReturnType<typeof parseProcessStat> | undefined> {
  try {
    return parseProcessStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch (error) {
    // ESRCH: the process ended while its stat was being read.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return undefined;
    throw error;
  }
}

export async function isRunning(daemon: Daemon): Promise<boolean> {
  const stat = await statOf(daemon.pid);
  return stat !== undefined && stat.startTime === daemon.startTime && stat.state !== 'Z';
}

/**
 * Starts a daemon in the foreground of its own session (it must not fork away, so that its pid
 * is known), output appended to `logPath`. Every command used here `exec`s into the daemon, so
 * the spawned pid is the daemon's.
 */
export async function startDaemon(
  name: string,
  argv: string[],
  options: { logPath: string; env?: NodeJS.ProcessEnv }
): Promise<Daemon> {
  const [executable, ...args] = argv;
  if (executable === undefined) throw new Error(`Empty command for ${name}`);
  const log = await open(options.logPath, 'a', 0o600);
  try {
    const child = spawn(executable, args, {
      detached: true,
      stdio: ['ignore', log.fd, log.fd],
      env: options.env ?? process.env
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('error', error => reject(new Error(`Cannot start ${name}: ${error.message}`)));
      child.once('spawn', () =>
        child.pid === undefined ? reject(new Error(`No pid for ${name}`)) : resolve(child.pid)
      );
    });
    child.unref();
    const stat = await statOf(pid);
    if (stat === undefined)
      throw new Error(`${name} (pid ${pid}) ended at once; see ${options.logPath}`);
    return { name, pid, startTime: stat.startTime, logPath: options.logPath };
  } finally {
    await log.close();
  }
}

/** Live descendants of `pid` (children first found, deepest last). */
export async function descendantsOf(pid: number): Promise<number[]> {
  const children = new Map<number, number[]>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await statOf(Number(entry));
    if (stat === undefined || stat.state === 'Z') continue;
    children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), stat.pid]);
  }
  const found: number[] = [];
  const queue = [pid];
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
    for (const child of children.get(next) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** SIGTERM to exactly these pids, SIGKILL to whatever is left after `graceMs`. */
export async function stopPids(pids: readonly number[], graceMs = 5_000): Promise<void> {
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let left = [...pids];
  while (left.length > 0) {
    const alive = await Promise.all(left.map(async pid => (await statOf(pid)) !== undefined));
    left = left.filter((_, index) => alive[index]);
    if (left.length === 0) return;
    if (Date.now() > deadline) break;
    await new Promise(resolve => setTimeout(resolve, 100));
  }
  for (const pid of left) signal(pid, 'SIGKILL');
}

/** Stops a daemon (if it is still the process we started) and everything it forked. */
export async function stopDaemon(daemon: Daemon, graceMs = 5_000): Promise<void> {
  if (!(await isRunning(daemon))) return;
  const family = [daemon.pid, ...(await descendantsOf(daemon.pid))];
  await stopPids(family, graceMs);
}

/** Polls `check` until it returns true; fails naming `what` (and the log to read) after timeoutMs. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  logPath?: string
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise(resolve => setTimeout(resolve, 200));
  }
  const cause = lastError instanceof Error ? `: ${lastError.message}` : '';
  const hint = logPath !== undefined ? `; see ${logPath}` : '';
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${cause}${hint}`);
}
