import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobHandle } from '../../src/protocol/index.js';
import type { JobStatus, LaunchSpec } from '../../src/resource/adaptor.js';
import type { RemoteConnectionPool } from '../../src/remote/index.js';
import { slurmAdaptor, type SlurmAdaptor } from '../../src/resource/slurm/index.js';
import { run } from './command.js';
import { waitUntil } from './daemons.js';
import type { TestbedInfo } from './testbed.js';

/** The SLURM adaptor through the testbed's login sshd, its connection kept in `pool`. */
export function slurmOverSsh(testbed: TestbedInfo, pool: RemoteConnectionPool): SlurmAdaptor {
  const { ssh } = testbed;
  return slurmAdaptor(`slurm+ssh://${ssh.user}@${ssh.host}:${ssh.port}`, {
    pool,
    connection: {
      knownHostsPath: ssh.knownHostsPath,
      identityFiles: [ssh.identityPath],
      agent: false
    }
  });
}

/** A launch spec whose command is a shell script, in a fresh directory of its own. */
export async function shellSpec(
  testbed: TestbedInfo,
  name: string,
  script: string
): Promise<LaunchSpec> {
  const workDir = await mkdtemp(join(testbed.dir, `${name}-`));
  return {
    pilotId: `pilot-${name}`,
    workDir,
    command: ['sh', '-c', script],
    env: { GREETING: "it's the testbed" },
    stdoutPath: join(workDir, 'job.out'),
    stderrPath: join(workDir, 'job.err')
  };
}

/** The job's status once `accept` takes it; the error shows the last status seen. */
export async function waitForStatus(
  adaptor: SlurmAdaptor,
  job: JobHandle,
  accept: (status: JobStatus) => boolean,
  timeoutMs: number
): Promise<JobStatus> {
  let last: JobStatus | undefined;
  try {
    await waitUntil(
      `SLURM job ${job.jobId} to reach the expected state`,
      async () => {
        last = await adaptor.status(job);
        return last !== undefined && accept(last);
      },
      timeoutMs
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; its last status: ${JSON.stringify(last)}`, {
      cause: error
    });
  }
  if (last === undefined) throw new Error(`SLURM job ${job.jobId} is gone`);
  return last;
}

/** SLURM's JobState of a job, as scontrol shows it on the testbed's controller. */
export async function slurmState(testbed: TestbedInfo, jobId: string): Promise<string> {
  const text = await run(['scontrol', 'show', 'job', '-o', jobId], {
    env: { ...process.env, ...testbed.env }
  });
  return /JobState=(\S+)/.exec(text)?.[1] ?? 'unknown';
}
