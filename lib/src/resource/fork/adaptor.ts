import { spawn } from 'node:child_process';
import { mkdir, open } from 'node:fs/promises';
import type { JobHandle } from '../../protocol/index.js';
import type { LaunchSpec, ResourceAdaptor } from '../adaptor.js';
import {
  isProcessAlive,
  readProcessStat,
  sessionMembers,
  signalProcess,
  waitForExit
} from './processes.js';

/**
 * fork://localhost: the supervisor runs on this machine in its own session and process group,
 * with its output in files, so it outlives the process that launched it.
 */
export class ForkAdaptor implements ResourceAdaptor {
  readonly scheme = 'fork';

  async launch(spec: LaunchSpec): Promise<JobHandle> {
    const [executable, ...args] = spec.command;
    if (executable === undefined) throw new Error(`Empty launch command for pilot ${spec.pilotId}`);
    await mkdir(spec.workDir, { recursive: true, mode: 0o700 });
    const stdout = await open(spec.stdoutPath, 'a', 0o600);
    const stderr = await open(spec.stderrPath, 'a', 0o600);
    try {
      const child = spawn(executable, args, {
        cwd: spec.workDir,
        env: spec.env,
        detached: true,
        stdio: ['ignore', stdout.fd, stderr.fd]
      });
      const pid = await new Promise<number>((resolve, reject) => {
        child.once('error', error =>
          reject(new Error(`Cannot start the supervisor of ${spec.pilotId}: ${error.message}`))
        );
        child.once('spawn', () => {
          if (child.pid === undefined)
            reject(new Error(`No pid for the supervisor of ${spec.pilotId}`));
          else resolve(child.pid);
        });
      });
      child.unref();
      const stat = await readProcessStat(pid);
      if (stat === undefined) {
        throw new Error(
          `The supervisor of ${spec.pilotId} (pid ${pid}) ended at once; see ${spec.stderrPath}`
        );
      }
      return { jobId: String(pid), pid, pidStartTime: stat.startTime, host: 'localhost' };
    } finally {
      await stdout.close();
      await stderr.close();
    }
  }

  async isAlive(job: JobHandle): Promise<boolean> {
    if (job.pid === undefined) return false;
    return isProcessAlive(job.pid, job.pidStartTime);
  }

  /** Processes still left of the job: its whole session. */
  async remaining(job: JobHandle): Promise<number[]> {
    if (job.pid === undefined) return [];
    return sessionMembers(job.pid, job.pidStartTime);
  }

  async terminate(job: JobHandle, graceMs: number): Promise<void> {
    const pid = job.pid;
    if (pid === undefined) throw new Error(`fork job ${job.jobId} has no pid`);
    const remaining = (): Promise<number[]> => this.remaining(job);
    const members = await remaining();
    if (members.length === 0) return;
    if (await this.isAlive(job)) {
      // The supervisor leads the group: one signal reaches it and the framework it started.
      signalProcess(-pid, 'SIGTERM');
    } else {
      for (const member of members) signalProcess(member, 'SIGTERM');
    }
    const left = await waitForExit(members, graceMs, remaining);
    if (left.length === 0) return;
    for (const member of left) signalProcess(member, 'SIGKILL');
    const survivors = await waitForExit(left, 5_000, remaining);
    if (survivors.length > 0) {
      throw new Error(`Processes ${survivors.join(', ')} of job ${job.jobId} survived SIGKILL`);
    }
  }
}
