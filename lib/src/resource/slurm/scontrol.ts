import type { SlurmJobState } from './states.js';

/**
 * The job id in `sbatch --parsable` output ("1234" or "1234;cluster").
 */
export function parseSbatchParsable(output: string): string {
  const jobId = output.trim().split(';')[0] ?? '';
  if (!/^\d+(_\d+)?$/.test(jobId)) {
    throw new Error(`sbatch printed ${JSON.stringify(output.trim())}: expected a job id`);
  }
  return jobId;
}

/**
 * The state fields of `scontrol show job -o <id>` (one line of Key=Value pairs). Values that may
 * hold spaces (Command, WorkDir, names) are not needed and not parsed.
 */
export function parseScontrolJob(output: string, jobId: string): SlurmJobState {
  const field = (key: string): string | undefined =>
    new RegExp(`(?:^|\\s)${key}=(\\S*)`).exec(output)?.[1];
  const reported = field('JobId');
  const state = field('JobState');
  if (reported !== jobId || state === undefined) {
    throw new Error(
      `scontrol show job ${jobId} printed ${JSON.stringify(output.trim().slice(0, 200))}: expected JobId=${jobId} and JobState=`
    );
  }
  const reason = field('Reason');
  const exitCode = field('ExitCode');
  return {
    jobId,
    state,
    ...(reason !== undefined ? { reason } : {}),
    ...(exitCode !== undefined ? { exitCode } : {})
  };
}

/** scontrol's answer for a job slurmctld no longer (or never) knew. */
export function isUnknownJob(stderr: string): boolean {
  return /Invalid job id specified/i.test(stderr);
}
