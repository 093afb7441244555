import type { JobHandle } from '../protocol/index.js';

/** What to run on the resource to hold the pilot. */
export interface LaunchSpec {
  pilotId: string;
  /** Working directory on the resource; created by the adaptor if missing. */
  workDir: string;
  /** argv of the supervisor (bootstrap) process. */
  command: string[];
  env: Record<string, string>;
  /** Files for stdout/stderr of the supervisor, inside workDir. */
  stdoutPath: string;
  stderrPath: string;
}

/**
 * A resource manager. fork:// now; ssh://, slurm:// and slurm+ssh:// implement the same
 * interface later. Every method either succeeds or throws an error naming what went wrong.
 */
export interface ResourceAdaptor {
  readonly scheme: string;
  /** Starts the job detached from the caller; returns as soon as it is submitted. */
  launch(spec: LaunchSpec): Promise<JobHandle>;
  /** Whether the job still holds its resources (false once it has gone, for whatever reason). */
  isAlive(job: JobHandle): Promise<boolean>;
  /** Asks the job to stop (SIGTERM or scancel), then forces it after graceMs. Idempotent. */
  terminate(job: JobHandle, graceMs: number): Promise<void>;
}
