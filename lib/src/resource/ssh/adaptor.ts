import { posix } from 'node:path';
import type { JobHandle } from '../../protocol/index.js';
import type { RemoteConnection } from '../../remote/connection.js';
import { shellCommand, shellCommandIn, shellQuote } from '../../remote/shell-quote.js';
import { parseProcessStat, type ProcessStat } from '../fork/processes.js';
import type { LaunchSpec, ResourceAdaptor } from '../adaptor.js';

const POLL_MS = 250;
/** After SIGKILL, how long the processes may take to be gone. */
const KILL_WAIT_MS = 5_000;

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

/**
 * ssh://[user@]host[:port]: the supervisor runs on the host in its own session (setsid), output
 * in files, stdin from /dev/null, so it outlives the ssh channel and the client. It is named by
 * its pid and the start time from /proc (a reused pid is not it); stopping it signals its
 * session. Needs a Linux host (/proc) with setsid and a POSIX sh.
 */
export class SshAdaptor implements ResourceAdaptor {
  readonly scheme = 'ssh';

  constructor(private readonly connection: RemoteConnection) {}

  async launch(spec: LaunchSpec): Promise<JobHandle> {
    if (spec.command.length === 0)
      throw new Error(`Empty launch command for pilot ${spec.pilotId}`);
    if (!posix.isAbsolute(spec.workDir)) {
      throw new Error(`workDir ${spec.workDir} of ${spec.pilotId}: expected an absolute path`);
    }
    await this.connection.mkdir(spec.workDir, { mode: 0o700 });
    // The session leader reports its own pid on fd 3 (the channel), closes it and becomes the
    // supervisor: nothing of the channel is left open, so the command returns at once.
    const leader = `echo $$ >&3; exec 3>&-; exec "$@"`;
    // A missing program would only show as an early exit, in a file: check it here, with the
    // launch environment (it may set PATH).
    const program = spec.command[0] ?? '';
    const precheck = `${shellCommandIn(['sh', '-c', 'command -v "$0" >/dev/null', program], { env: spec.env })} || { echo ${shellQuote(`${program}: not found or not executable`)} >&2; exit 127; };`;
    const command = [
      precheck,
      // Not "cd && setsid ... &": that would background the whole list in a subshell that
      // keeps the channel open.
      `cd ${shellQuote(spec.workDir)} || exit 1;`,
      `setsid sh -c ${shellQuote(leader)} sh`,
      shellCommandIn(spec.command, { env: spec.env }),
      `3>&1 </dev/null >>${shellQuote(spec.stdoutPath)} 2>>${shellQuote(spec.stderrPath)} &`
    ].join(' ');
    const result = await this.connection.execShell(command);
    const pid = Number(result.stdout.trim());
    if (result.code !== 0 || !Number.isInteger(pid) || pid <= 0) {
      throw new Error(
        `Cannot start the supervisor of ${spec.pilotId} on ${this.connection.label} (exit code ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`
      );
    }
    const stat = await this.processStat(pid);
    if (stat === undefined) {
      throw new Error(
        `The supervisor of ${spec.pilotId} (pid ${pid} on ${this.connection.label}) ended at once; see ${spec.stderrPath}`
      );
    }
    return { jobId: String(pid), pid, pidStartTime: stat.startTime, host: this.connection.label };
  }

  async isAlive(job: JobHandle): Promise<boolean> {
    const pid = this.pidOf(job);
    const stat = await this.processStat(pid);
    if (stat === undefined || stat.state === 'Z' || stat.state === 'X') return false;
    return job.pidStartTime === undefined || stat.startTime === job.pidStartTime;
  }

  /** SIGTERM to the session (the supervisor and what it started), SIGKILL after graceMs. */
  async terminate(job: JobHandle, graceMs: number): Promise<void> {
    const members = await this.sessionMembers(job);
    if (members.length === 0) return;
    await this.signal('TERM', members);
    let left = await this.waitForExit(job, graceMs);
    if (left.length === 0) return;
    await this.signal('KILL', left);
    left = await this.waitForExit(job, KILL_WAIT_MS);
    if (left.length > 0) {
      throw new Error(
        `Processes ${left.join(', ')} of job ${job.jobId} on ${this.connection.label} survived SIGKILL`
      );
    }
  }

  /** Live processes of the job's session that are not older than its leader. */
  async sessionMembers(job: JobHandle): Promise<number[]> {
    const pid = this.pidOf(job);
    // Processes may end while being listed: cat then complains and exits 1, which is fine.
    const result = await this.connection.execShell('cat /proc/[0-9]*/stat 2>/dev/null');
    if (result.code !== 0 && result.code !== 1) {
      throw new Error(`Cannot list processes on ${this.connection.label}: ${result.stderr.trim()}`);
    }
    const leaderStart = job.pidStartTime !== undefined ? BigInt(job.pidStartTime) : undefined;
    return result.stdout
      .split('\n')
      .filter(line => line.trim() !== '')
      .map(line => parseProcessStat(line))
      .filter(
        stat =>
          stat.session === pid &&
          stat.state !== 'Z' &&
          (leaderStart === undefined || BigInt(stat.startTime) >= leaderStart)
      )
      .map(stat => stat.pid);
  }

  private pidOf(job: JobHandle): number {
    if (job.pid === undefined) throw new Error(`ssh job ${job.jobId} has no pid`);
    return job.pid;
  }

  private async processStat(pid: number): Promise<ProcessStat | undefined> {
    const result = await this.connection.exec(['cat', `/proc/${pid}/stat`]);
    if (result.code === 0) return parseProcessStat(result.stdout);
    if (/No such file/i.test(result.stderr)) return undefined;
    throw new Error(
      `Cannot read /proc/${pid}/stat on ${this.connection.label}: ${result.stderr.trim()}`
    );
  }

  /**
   * kill on the host (each pid: the shells' built-in kill cannot always signal a group).
   * Processes already gone are not an error: the caller checks what is left.
   */
  private async signal(name: 'TERM' | 'KILL', pids: number[]): Promise<void> {
    await this.connection.execShell(
      `${shellCommand(['kill', '-s', name, ...pids.map(String)])} 2>/dev/null`
    );
  }

  private async waitForExit(job: JobHandle, timeoutMs: number): Promise<number[]> {
    const deadline = Date.now() + timeoutMs;
    let left = await this.sessionMembers(job);
    while (left.length > 0 && Date.now() < deadline) {
      await sleep(POLL_MS);
      left = await this.sessionMembers(job);
    }
    return left;
  }
}
