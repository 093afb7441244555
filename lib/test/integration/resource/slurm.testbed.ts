import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RemoteConnectionPool } from '../../../src/remote/index.js';
import { expandHostlist, slurmAdaptor } from '../../../src/resource/slurm/index.js';
import { run } from '../../testbed/command.js';
import { waitUntil } from '../../testbed/daemons.js';
import { processesOnNodes } from '../../testbed/node-processes.js';
import { shellSpec, slurmOverSsh, waitForStatus } from '../../testbed/slurm-jobs.js';

const testbed = inject('testbed');
const nodeNames = testbed.slurm.nodes.map(node => node.name);

describe('slurm+ssh:// and slurm://localhost on the testbed cluster', () => {
  const pool = new RemoteConnectionPool();
  const { ssh } = testbed;
  const overSsh = slurmOverSsh(testbed, pool);
  const local = slurmAdaptor('slurm://localhost', { localEnv: testbed.env });
  const cleanups: string[] = [];

  beforeAll(async () => {
    expect(await processesOnNodes(testbed)).toEqual([]);
  });

  afterAll(async () => {
    await pool.closeAll();
    await Promise.all(cleanups.map(dir => rm(dir, { recursive: true, force: true })));
  });

  it('runs a 3-node batch job through ssh whose nodes each report their hostname', async () => {
    const spec = await shellSpec(
      testbed,
      'hostnames',
      'echo "$GREETING"; echo "$SLURM_JOB_NODELIST"; scontrol show hostnames | paste -sd " "; srun --ntasks-per-node=1 hostname'
    );
    cleanups.push(spec.workDir);
    const job = await overSsh.launch({
      ...spec,
      resources: { numberOfNodes: 3, coresPerNode: 2, walltimeMinutes: 5, queue: 'debug' }
    });
    expect(job.jobId).toMatch(/^\d+$/);
    const details = await run(['scontrol', 'show', 'job', '-o', job.jobId], {
      env: { ...process.env, ...testbed.env }
    });
    expect(details).toMatch(/NumNodes=3(-3)? /);
    expect(details).toMatch(/NumCPUs=6 /);
    expect(details).toMatch(/Partition=debug /);
    const status = await waitForStatus(overSsh, job, s => s.state === 'Done', 60_000);
    expect(status).toEqual({ state: 'Done', nativeState: 'COMPLETED' });
    // The output is read back over SFTP, as a client on another machine would.
    const connection = pool.get({ user: ssh.user, host: ssh.host, port: ssh.port });
    const [greeting, nodeList, slurmExpanded, ...hostnames] = (
      await connection.readFile(spec.stdoutPath)
    )
      .toString('utf8')
      .trim()
      .split('\n');
    expect(greeting).toBe("it's the testbed");
    // Our reading of SLURM_JOB_NODELIST agrees with SLURM's own.
    expect(expandHostlist(nodeList ?? '')).toEqual(slurmExpanded?.split(' '));
    expect([...(slurmExpanded?.split(' ') ?? [])].sort()).toEqual([...hostnames].sort());
    expect(hostnames).toHaveLength(3);
    expect(new Set(hostnames).size).toBe(3);
    for (const hostname of hostnames) expect(nodeNames).toContain(hostname);
    expect(await overSsh.isAlive(job)).toBe(false);
  });

  it('reports a job cancelled from outside as Canceled', async () => {
    const spec = await shellSpec(testbed, 'cancelled', 'sleep 600');
    cleanups.push(spec.workDir);
    const job = await local.launch({
      ...spec,
      resources: { numberOfNodes: 2, walltimeMinutes: 10 }
    });
    await waitForStatus(local, job, s => s.state === 'Running', 30_000);
    expect(await overSsh.isAlive(job)).toBe(true);
    const cancelledAt = Date.now();
    await run(['scancel', job.jobId], { env: { ...process.env, ...testbed.env } });
    const status = await waitForStatus(overSsh, job, s => s.state !== 'Running', 10_000);
    expect(Date.now() - cancelledAt).toBeLessThan(10_000);
    expect(status.state).toBe('Canceled');
    expect(status.nativeState).toBe('CANCELLED');
    expect(status.reason).toMatch(new RegExp(`SLURM job ${job.jobId} was cancelled`));
    await waitUntil(
      'no job process left on the nodes',
      async () => (await processesOnNodes(testbed)).length === 0,
      30_000
    );
  });

  it('stops a running job gracefully with terminate and leaves no process on any node', async () => {
    const spec = await shellSpec(
      testbed,
      'terminated',
      'trap "echo graceful stop; exit 0" TERM; echo started; while :; do sleep 1; done'
    );
    cleanups.push(spec.workDir);
    const job = await overSsh.launch({
      ...spec,
      resources: { numberOfNodes: 1, walltimeMinutes: 10 }
    });
    await waitForStatus(overSsh, job, s => s.state === 'Running', 30_000);
    await waitUntil(
      'the job to start',
      async () => (await readFile(spec.stdoutPath, 'utf8')).includes('started'),
      30_000
    );
    await overSsh.terminate(job, 20_000);
    expect(await overSsh.isAlive(job)).toBe(false);
    expect(await readFile(spec.stdoutPath, 'utf8')).toContain('graceful stop');
    await waitUntil(
      'no job process left on the nodes',
      async () => (await processesOnNodes(testbed)).length === 0,
      30_000
    );
    // Idempotent.
    await overSsh.terminate(job, 1_000);
  });

  it('cancels a pending job at once', async () => {
    const spec = await shellSpec(testbed, 'pending', 'sleep 600');
    cleanups.push(spec.workDir);
    // A start time an hour away keeps it pending.
    const job = await local.launch({
      ...spec,
      resources: {
        numberOfNodes: 1,
        walltimeMinutes: 10,
        schedulerOptions: [`--nodelist=${nodeNames[0]}`, '--begin=now+3600']
      }
    });
    expect((await local.status(job))?.state).toBe('Pending');
    await local.terminate(job, 30_000);
    expect((await local.status(job))?.state).toBe('Canceled');
  });

  it('runs in a working directory whose path has spaces', async () => {
    const spec = await shellSpec(testbed, 'spaced', 'echo "ran in $PWD"');
    cleanups.push(spec.workDir);
    const workDir = join(spec.workDir, 'my pilot dir');
    const job = await overSsh.launch({
      ...spec,
      workDir,
      stdoutPath: join(workDir, 'job out.txt'),
      stderrPath: join(workDir, 'job err.txt'),
      resources: { numberOfNodes: 1, walltimeMinutes: 5 }
    });
    await waitForStatus(overSsh, job, s => s.state === 'Done', 30_000);
    expect(await readFile(join(workDir, 'job out.txt'), 'utf8')).toBe(`ran in ${workDir}\n`);
  });

  it('says nothing about a job slurmctld does not know', async () => {
    expect(await local.status({ jobId: '987654', host: 'localhost' })).toBeUndefined();
    expect(await local.isAlive({ jobId: '987654', host: 'localhost' })).toBe(false);
  });

  it('refuses to launch without the size of the allocation', async () => {
    const spec = await shellSpec(testbed, 'unsized', 'true');
    cleanups.push(spec.workDir);
    await expect(local.launch(spec)).rejects.toThrow(/needs the size of the allocation/);
  });
});
