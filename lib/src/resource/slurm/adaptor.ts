import { posix } from 'node:path';
import type { JobHandle } from '../../protocol/index.js';
import type { Host } from '../../remote/host.js';
import type { JobStatus, LaunchSpec, ResourceAdaptor } from '../adaptor.js';
import { renderBatchScript } from './batch-script.js';
import { isUnknownJob, parseSbatchParsable, parseScontrolJob } from './scontrol.js';
import { mapSlurmState } from './states.js';

/** How often the job's state is polled while waiting for it to end. */
const POLL_MS = 500;
/** After a hard scancel, how long SLURM may take to end the job (its KillWait and cleanup). */
const HARD_CANCEL_WAIT_MS = 90_000;

/** A job the scheduler still queues or runs (it holds, or will hold, nodes). */
function holdsNodes(status: JobStatus | undefined): status is JobStatus {
  return status !== undefined && (status.state === 'Pending' || status.state === 'Running');
}

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

/**
 * SLURM through its commands: sbatch to submit, `scontrol show job` for the state (it needs no
 * accounting database: it works with AccountingStorageType=none for as long as slurmctld keeps
 * the job, MinJobAge seconds after it ends, 300 by default), scancel to stop. The commands run
 * on `host`: this machine for slurm://localhost, the login node over ssh for slurm+ssh://, with
 * the batch script written there (through SFTP when remote).
 */
export class SlurmAdaptor implements ResourceAdaptor {
  constructor(
    readonly scheme: 'slurm' | 'slurm+ssh',
    private readonly host: Host
  ) {}

  async launch(spec: LaunchSpec): Promise<JobHandle> {
    if (spec.resources === undefined) {
      throw new Error(
        `${this.scheme}:// needs the size of the allocation (LaunchSpec.resources: numberOfNodes, walltimeMinutes, ...) for pilot ${spec.pilotId}`
      );
    }
    if (!posix.isAbsolute(spec.workDir)) {
      throw new Error(`workDir ${spec.workDir} of ${spec.pilotId}: expected an absolute path`);
    }
    const script = renderBatchScript(spec, spec.resources);
    await this.host.mkdir(spec.workDir, { mode: 0o700 });
    const scriptPath = posix.join(spec.workDir, 'pilot.sbatch');
    await this.host.writeFile(scriptPath, script, { mode: 0o700 });
    const output = await this.host.check(['sbatch', '--parsable', scriptPath]);
    return { jobId: parseSbatchParsable(output), host: this.host.label };
  }

  async status(job: JobHandle): Promise<JobStatus | undefined> {
    const result = await this.host.exec(['scontrol', 'show', 'job', '-o', job.jobId]);
    if (result.code !== 0) {
      if (isUnknownJob(result.stderr)) return undefined;
      throw new Error(
        `scontrol show job ${job.jobId} on ${this.host.label} failed (exit code ${result.code}): ${result.stderr.trim()}`
      );
    }
    return mapSlurmState(parseScontrolJob(result.stdout, job.jobId));
  }

  async isAlive(job: JobHandle): Promise<boolean> {
    const status = await this.status(job);
    return holdsNodes(status);
  }

  /**
   * A running job first gets SIGTERM in all its steps and the batch shell (so the pilot can stop
   * its framework gracefully); after `graceMs` (or at once for a pending job) it is cancelled,
   * which SLURM ends with SIGKILL after its KillWait.
   */
  async terminate(job: JobHandle, graceMs: number): Promise<void> {
    const status = await this.status(job);
    if (!holdsNodes(status)) return;
    if (status.state === 'Running') {
      await this.host.check(['scancel', '--batch', '--signal=TERM', job.jobId]);
      if (await this.waitForEnd(job, graceMs)) return;
    }
    await this.host.check(['scancel', job.jobId]);
    if (await this.waitForEnd(job, HARD_CANCEL_WAIT_MS)) return;
    throw new Error(
      `SLURM job ${job.jobId} on ${this.host.label} still holds its nodes ${HARD_CANCEL_WAIT_MS / 1000} s after scancel`
    );
  }

  /** Polls until the job has ended (true) or `timeoutMs` passed (false). */
  private async waitForEnd(job: JobHandle, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!(await this.isAlive(job))) return true;
      if (Date.now() >= deadline) return false;
      await sleep(POLL_MS);
    }
  }
}
