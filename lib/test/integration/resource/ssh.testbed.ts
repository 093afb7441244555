import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { RemoteConnectionPool } from '../../../src/remote/index.js';
import { readProcessStat } from '../../../src/resource/fork/processes.js';
import { sshAdaptor } from '../../../src/resource/ssh/index.js';
import { waitUntil } from '../../testbed/daemons.js';

const testbed = inject('testbed');
const { ssh } = testbed;
const resource = `ssh://${ssh.user}@${ssh.host}:${ssh.port}`;
const connection = {
  knownHostsPath: ssh.knownHostsPath,
  identityFiles: [ssh.identityPath],
  agent: false as const
};

describe('ssh:// on the testbed sshd', () => {
  const pools: RemoteConnectionPool[] = [];
  const dirs: string[] = [];
  const newAdaptor = () => {
    const pool = new RemoteConnectionPool();
    pools.push(pool);
    return { pool, adaptor: sshAdaptor(resource, { pool, connection }) };
  };

  afterAll(async () => {
    await Promise.all(pools.map(pool => pool.closeAll()));
    await Promise.all(dirs.map(dir => rm(dir, { recursive: true, force: true })));
  });

  it('runs a detached job that outlives the connection and stops it gracefully', async () => {
    const workDir = join(await mkdtemp(join(testbed.dir, 'ssh-job-')), 'nested', 'work');
    dirs.push(join(workDir, '..', '..'));
    const spec = {
      pilotId: 'pilot-sshjob',
      workDir,
      // A child process too, to see that the whole session is stopped.
      command: [
        'sh',
        '-c',
        'sleep 600 & trap "echo graceful stop; kill $!; exit 0" TERM; echo "started in $PWD as $GREETING"; while :; do sleep 1; done'
      ],
      env: { GREETING: "it's me" },
      stdoutPath: join(workDir, 'supervisor.out'),
      stderrPath: join(workDir, 'supervisor.log')
    };
    const first = newAdaptor();
    const job = await first.adaptor.launch(spec);
    expect(job.host).toBe(`${ssh.user}@${ssh.host}:${ssh.port}`);
    expect(job.pid).toBeGreaterThan(1);
    // The sshd is on this machine, so /proc here shows the job: its own session, not ours.
    const stat = await readProcessStat(job.pid ?? 0);
    expect(stat?.session).toBe(job.pid);
    expect(stat?.startTime).toBe(job.pidStartTime);
    await waitUntil(
      'the job to start',
      async () => (await readFile(spec.stdoutPath, 'utf8')).includes('started'),
      10_000
    );
    expect(await readFile(spec.stdoutPath, 'utf8')).toContain(`started in ${workDir} as it's me`);

    await first.pool.closeAll();
    const second = newAdaptor();
    expect(await second.adaptor.isAlive(job)).toBe(true);
    expect((await second.adaptor.sessionMembers(job)).length).toBe(3);
    // Same pid, another start time: not our job.
    expect(await second.adaptor.isAlive({ ...job, pidStartTime: '1' })).toBe(false);

    await second.adaptor.terminate(job, 10_000);
    expect(await second.adaptor.isAlive(job)).toBe(false);
    expect(await second.adaptor.sessionMembers(job)).toEqual([]);
    expect(await readFile(spec.stdoutPath, 'utf8')).toContain('graceful stop');
    // Idempotent.
    await second.adaptor.terminate(job, 1_000);
  });

  it('kills a job that ignores SIGTERM after the grace period', async () => {
    const workDir = await mkdtemp(join(testbed.dir, 'ssh-stubborn-'));
    dirs.push(workDir);
    const { adaptor } = newAdaptor();
    const job = await adaptor.launch({
      pilotId: 'pilot-stubborn',
      workDir,
      command: ['sh', '-c', 'trap "" TERM; echo up; while :; do sleep 1; done'],
      env: {},
      stdoutPath: join(workDir, 'out'),
      stderrPath: join(workDir, 'err')
    });
    await waitUntil(
      'the job to start',
      async () => (await readFile(join(workDir, 'out'), 'utf8')).includes('up'),
      10_000
    );
    const started = Date.now();
    await adaptor.terminate(job, 1_500);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
    expect(await adaptor.isAlive(job)).toBe(false);
    expect(await adaptor.sessionMembers(job)).toEqual([]);
  });

  it('says clearly when the command cannot start', async () => {
    const workDir = await mkdtemp(join(testbed.dir, 'ssh-missing-'));
    dirs.push(workDir);
    const { adaptor } = newAdaptor();
    await expect(
      adaptor.launch({
        pilotId: 'pilot-missing',
        workDir,
        command: ['/nonexistent/supervisor'],
        env: {},
        stdoutPath: join(workDir, 'out'),
        stderrPath: join(workDir, 'err')
      })
    ).rejects.toThrow(
      /Cannot start the supervisor of pilot-missing .*exit code 127.*\/nonexistent\/supervisor: not found/
    );
  });
});
