import type { JobStatus } from '../adaptor.js';

/** What `scontrol show job` says about a job, as far as its state goes. */
export interface SlurmJobState {
  jobId: string;
  /** JobState, e.g. RUNNING, TIMEOUT. */
  state: string;
  /** Reason, e.g. Resources, TimeLimit, NonZeroExitCode; "None" when there is none. */
  reason?: string;
  /** ExitCode "code:signal". */
  exitCode?: string;
}

const PENDING = [
  'PENDING',
  'CONFIGURING',
  'REQUEUED',
  'REQUEUE_HOLD',
  'REQUEUE_FED',
  'RESV_DEL_HOLD',
  'POWER_UP_NODE'
];
/** States in which the job holds its nodes (SUSPENDED and STOPPED keep them while paused). */
const RUNNING = [
  'RUNNING',
  'COMPLETING',
  'SUSPENDED',
  'STOPPED',
  'SIGNALING',
  'STAGE_OUT',
  'RESIZING',
  'UPDATE_DB'
];
const FAILED: Record<string, string> = {
  FAILED: 'exited with an error',
  TIMEOUT: 'reached its time limit',
  NODE_FAIL: 'lost a node',
  OUT_OF_MEMORY: 'ran out of memory',
  PREEMPTED: 'was preempted',
  BOOT_FAIL: 'could not boot its nodes',
  DEADLINE: 'missed its deadline',
  SPECIAL_EXIT: 'ended with a special exit',
  LAUNCH_FAILED: 'could not be launched'
};
const CANCELED: Record<string, string> = {
  CANCELLED: 'was cancelled (scancel, or by an administrator)',
  REVOKED: 'was revoked (it ran on another cluster of the federation)'
};

/** Every job state name SLURM reports, for callers that want to check coverage. */
export const SLURM_JOB_STATES = [
  ...PENDING,
  ...RUNNING,
  'COMPLETED',
  ...Object.keys(FAILED),
  ...Object.keys(CANCELED)
];

function details(job: SlurmJobState): string {
  const parts: string[] = [];
  if (job.reason !== undefined && job.reason !== 'None') parts.push(`reason ${job.reason}`);
  if (job.exitCode !== undefined && job.exitCode !== '0:0') parts.push(`exit code ${job.exitCode}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

/**
 * Our state for a SLURM job state: PENDING and its kin → Pending, RUNNING/COMPLETING and other
 * states holding nodes → Running, COMPLETED → Done, CANCELLED → Canceled, every failure
 * (FAILED, TIMEOUT, NODE_FAIL, OUT_OF_MEMORY, PREEMPTED, BOOT_FAIL, DEADLINE...) → Failed, with
 * a reason naming SLURM's state, reason and exit code. An unknown state is an error.
 */
export function mapSlurmState(job: SlurmJobState): JobStatus {
  // sacct-style forms such as "CANCELLED by 0" carry a suffix.
  const nativeState = /^[A-Z_]+/.exec(job.state.trim())?.[0] ?? job.state;
  if (PENDING.includes(nativeState)) {
    // Why it waits (Resources, Priority, ReqNodeNotAvail...) is what a user wants to see.
    return {
      state: 'Pending',
      nativeState,
      reason: `SLURM job ${job.jobId} is ${nativeState}${details(job)}`
    };
  }
  if (RUNNING.includes(nativeState)) {
    return nativeState === 'RUNNING' || nativeState === 'COMPLETING'
      ? { state: 'Running', nativeState }
      : { state: 'Running', nativeState, reason: `SLURM job ${job.jobId} is ${nativeState}` };
  }
  if (nativeState === 'COMPLETED' || nativeState === 'COMPLETE') {
    return { state: 'Done', nativeState: 'COMPLETED' };
  }
  const failure = FAILED[nativeState];
  if (failure !== undefined) {
    return {
      state: 'Failed',
      nativeState,
      reason: `SLURM job ${job.jobId} ${failure}: ${nativeState}${details(job)}`
    };
  }
  const cancel = CANCELED[nativeState];
  if (cancel !== undefined) {
    return {
      state: 'Canceled',
      nativeState,
      reason: `SLURM job ${job.jobId} ${cancel}: ${nativeState}${details(job)}`
    };
  }
  throw new Error(
    `SLURM job ${job.jobId} has state ${JSON.stringify(job.state)}: expected one of ${SLURM_JOB_STATES.join(', ')}`
  );
}
