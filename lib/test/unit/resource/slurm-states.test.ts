import { describe, expect, it } from 'vitest';
import { mapSlurmState, SLURM_JOB_STATES } from '../../../src/resource/slurm/states.js';
import {
  isUnknownJob,
  parseSbatchParsable,
  parseScontrolJob
} from '../../../src/resource/slurm/scontrol.js';

const job = (state: string, reason = 'None', exitCode = '0:0') => ({
  jobId: '42',
  state,
  reason,
  exitCode
});

describe('SLURM job states', () => {
  it.each([
    ['PENDING', 'Pending'],
    ['CONFIGURING', 'Pending'],
    ['REQUEUED', 'Pending'],
    ['RUNNING', 'Running'],
    ['COMPLETING', 'Running'],
    ['SUSPENDED', 'Running'],
    ['COMPLETED', 'Done'],
    ['CANCELLED', 'Canceled'],
    ['FAILED', 'Failed'],
    ['TIMEOUT', 'Failed'],
    ['NODE_FAIL', 'Failed'],
    ['OUT_OF_MEMORY', 'Failed'],
    ['PREEMPTED', 'Failed'],
    ['BOOT_FAIL', 'Failed'],
    ['DEADLINE', 'Failed']
  ])('%s is %s', (native, ours) => {
    const status = mapSlurmState(job(native));
    expect(status.state).toBe(ours);
    expect(status.nativeState).toBe(native);
  });

  it('maps every state it lists', () => {
    for (const state of SLURM_JOB_STATES) expect(() => mapSlurmState(job(state))).not.toThrow();
  });

  it('says why a job waits', () => {
    expect(mapSlurmState(job('PENDING', 'Resources')).reason).toBe(
      'SLURM job 42 is PENDING (reason Resources)'
    );
  });

  it('gives failures a reason with the state, SLURM reason and exit code', () => {
    expect(mapSlurmState(job('TIMEOUT', 'TimeLimit', '0:15')).reason).toBe(
      'SLURM job 42 reached its time limit: TIMEOUT (reason TimeLimit, exit code 0:15)'
    );
    expect(mapSlurmState(job('FAILED', 'NonZeroExitCode', '3:0')).reason).toMatch(
      /FAILED .*NonZeroExitCode.*3:0/
    );
    expect(mapSlurmState(job('OUT_OF_MEMORY')).reason).toBe(
      'SLURM job 42 ran out of memory: OUT_OF_MEMORY'
    );
  });

  it('gives cancellation a reason, also in the sacct form "CANCELLED by 0"', () => {
    const status = mapSlurmState(job('CANCELLED by 0'));
    expect(status).toMatchObject({ state: 'Canceled', nativeState: 'CANCELLED' });
    expect(status.reason).toMatch(/SLURM job 42 was cancelled/);
  });

  it('has no reason for normal states', () => {
    expect(mapSlurmState(job('RUNNING')).reason).toBeUndefined();
    expect(mapSlurmState(job('COMPLETED')).reason).toBeUndefined();
  });

  it('refuses an unknown state, naming it', () => {
    expect(() => mapSlurmState(job('WEIRD'))).toThrow(/"WEIRD": expected one of PENDING/);
  });
});

describe('SLURM command output', () => {
  it('reads the job id from sbatch --parsable', () => {
    expect(parseSbatchParsable('1234\n')).toBe('1234');
    expect(parseSbatchParsable('1234;cluster\n')).toBe('1234');
    expect(() => parseSbatchParsable('sbatch: error: oops')).toThrow(/expected a job id/);
  });

  it('reads state, reason and exit code from scontrol show job -o', () => {
    const line =
      'JobId=7 JobName=my job UserId=root(0) GroupId=root(0) Priority=1 JobState=TIMEOUT Reason=TimeLimit Dependency=(null) ExitCode=0:15 RunTime=00:01:02 Command=/a b/pilot.sbatch';
    expect(parseScontrolJob(line, '7')).toEqual({
      jobId: '7',
      state: 'TIMEOUT',
      reason: 'TimeLimit',
      exitCode: '0:15'
    });
  });

  it('does not take ArrayJobId or another job for the job', () => {
    expect(() => parseScontrolJob('ArrayJobId=7 JobId=8 JobState=RUNNING', '7')).toThrow(
      /expected JobId=7/
    );
  });

  it("knows scontrol's answer for a forgotten job", () => {
    expect(isUnknownJob('slurm_load_jobs error: Invalid job id specified')).toBe(true);
    expect(isUnknownJob('Unable to contact slurm controller')).toBe(false);
  });
});
