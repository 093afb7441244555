import type { JobHandle, PilotState } from '../protocol/index.js';

/**
 * What a batch scheduler needs to size the job, from the pilot description. Local adaptors
 * (fork://, ssh://) run one process and ignore it; SLURM adaptors require it.
 */
export interface ResourceRequest {
  numberOfNodes: number;
  /** Cores reserved on each node for the pilot's one task per node. */
  coresPerNode?: number;
  walltimeMinutes: number;
  /** Partition (SLURM) or queue. */
  queue?: string;
  /** Account charged (SLURM --account). */
  project?: string;
  reservation?: string;
  /** Whole nodes for the job alone (SLURM --exclusive): a pilot's nodes run only its framework. */
  exclusive?: boolean;
  /** Further scheduler options, one option each as the submit command takes it ("--qos=debug"). */
  schedulerOptions?: string[];
}

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
  /** Size of the allocation; required by batch adaptors (slurm://, slurm+ssh://). */
  resources?: ResourceRequest;
}

/** The resource manager's own view of a job, mapped to our states. */
export interface JobStatus {
  state: PilotState;
  /** Why, for Failed and Canceled (the scheduler's state, reason and exit code). */
  reason?: string;
  /** The resource manager's state name, e.g. SLURM's TIMEOUT. */
  nativeState: string;
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
  /**
   * The scheduler's view of the job, where there is a scheduler: lets the pilot core report a
   * job cancelled or timed out from outside as Canceled or Failed with the scheduler's reason,
   * rather than only "gone". Undefined once the scheduler has forgotten the job.
   */
  status?(job: JobHandle): Promise<JobStatus | undefined>;
}
