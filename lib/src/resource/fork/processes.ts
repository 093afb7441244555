import { readdir, readFile } from 'node:fs/promises';

/** The fields of /proc/<pid>/stat we rely on. */
export interface ProcessStat {
  pid: number;
  /** R, S, D, Z, T, ... */
  state: string;
  ppid: number;
  processGroup: number;
  session: number;
  /** Clock ticks after boot at which the process started: with the pid, it names one process. */
  startTime: string;
}

/**
 * Parses /proc/<pid>/stat. The command name (field 2) may hold spaces and parentheses, so the
 * fields are counted from the last ")".
 */
export function parseProcessStat(text: string): ProcessStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`Unexpected /proc stat line: ${text.slice(0, 80)}`);
  const fields = text
    .slice(close + 2)
    .trim()
    .split(' ');
  // fields[0] is field 3 of proc(5): state, ppid, pgrp, session, ..., starttime is field 22.
  const startTime = fields[19];
  if (startTime === undefined) throw new Error(`Unexpected /proc stat line: ${text.slice(0, 80)}`);
  return {
    pid: Number(text.slice(0, open).trim()),
    state: fields[0] ?? '?',
    ppid: Number(fields[1]),
    processGroup: Number(fields[2]),
    session: Number(fields[3]),
    startTime
  };
}

function isGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ESRCH';
}

/** The stat of a process, or undefined once it has gone. */
export async function readProcessStat(pid: number): Promise<ProcessStat | undefined> {
  try {
    return parseProcessStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch (error) {
    if (isGone(error)) return undefined;
    throw error;
  }
}

/** True while the process with this pid AND this start time runs (a reused pid is not it). */
export async function isProcessAlive(pid: number, startTime: string | undefined): Promise<boolean> {
  const stat = await readProcessStat(pid);
  if (stat === undefined || stat.state === 'Z' || stat.state === 'X') return false;
  return startTime === undefined || stat.startTime === startTime;
}

/**
 * Live processes of a session (a pilot's supervisor and everything it started), skipping
 * processes older than the session leader. Linux keeps a pid reserved while it names a live
 * session, so members found this way belong to the pilot.
 */
export async function sessionMembers(session: number, leaderStartTime?: string): Promise<number[]> {
  const members: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = await readProcessStat(Number(name));
    if (stat === undefined || stat.session !== session || stat.state === 'Z') continue;
    if (leaderStartTime !== undefined && BigInt(stat.startTime) < BigInt(leaderStartTime)) continue;
    members.push(stat.pid);
  }
  return members;
}

/** Sends a signal, treating "already gone" as done. */
export function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (error) {
    if (!isGone(error)) throw error;
  }
}

/** Polls until none of `pids` runs, or `timeoutMs` passes; returns those still running. */
export async function waitForExit(
  pids: readonly number[],
  timeoutMs: number,
  stillRunning: () => Promise<number[]>
): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let left = [...pids];
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise(resolve => setTimeout(resolve, 100));
    left = await stillRunning();
  }
  return left;
}
