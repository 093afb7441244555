import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import type { Pilot } from '../../../src/pilot/index.js';
import { RemoteConnectionPool } from '../../../src/remote/index.js';
import { ForkAdaptor } from '../../../src/resource/fork/adaptor.js';
import { run } from '../../testbed/command.js';
import { waitUntil } from '../../testbed/daemons.js';
import { processesOnNodes, waitForIdleNodes } from '../../testbed/node-processes.js';
import { openPilotClient, type PilotClient } from '../../testbed/pilot-client.js';
import { shellSpec, slurmOverSsh, slurmState, waitForStatus } from '../../testbed/slurm-jobs.js';

const testbed = inject('testbed');

function sleepUntil(time: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, Math.max(0, time - Date.now())));
}

/** The testbed nodes a pilot's brokers ran on (its leftovers are looked for there only). */
function nodesOf(pilot: Pilot): string[] {
  return (pilot.record.details?.brokers ?? []).flatMap(broker =>
    broker.node ? [broker.node] : []
  );
}

// Each test waits for a walltime of a minute to run out, mostly idle, so they run side by side:
// each on a node of its own (the cluster has five), leftovers looked for on that node only.
describe.concurrent('walltime on every resource', () => {
  let client: PilotClient;
  const pilots: Pilot[] = [];
  const pool = new RemoteConnectionPool();
  const cleanups: string[] = [];

  beforeAll(async () => {
    client = await openPilotClient(testbed, testbed.ssh);
  });

  afterAll(async () => {
    await client?.close(pilots);
    await pool.closeAll();
    await Promise.all(cleanups.map(dir => rm(dir, { recursive: true, force: true })));
    await waitForIdleNodes(testbed, 30_000);
  });

  async function createPilot(
    resource: string,
    options: { schedulerOptions?: string[] } = {}
  ): Promise<Pilot> {
    const pilot = await client.service.createPilot({
      type: 'kafka',
      resource,
      walltimeMinutes: 1,
      ...options
    });
    pilots.push(pilot);
    return pilot;
  }

  it('a fork:// pilot stops at its walltime: Done with the reason, nothing left', async ({
    expect
  }) => {
    const pilot = await createPilot('fork://localhost');
    await pilot.wait('Running', { timeoutMs: 55_000 });
    expect(await pilot.wait('Done', { timeoutMs: 90_000 })).toBe('Done');
    expect(pilot.record.reason).toBe('walltime of 1 minutes reached');
    // The walltime counts from the start of its supervisor (the job), not from the record.
    const started = Date.parse(pilot.record.startedAt!);
    expect(started).toBeGreaterThanOrEqual(Date.parse(pilot.record.createdAt));
    const ranFor = Date.parse(pilot.record.history.at(-1)!.at) - started;
    expect(ranFor).toBeGreaterThanOrEqual(60_000);
    expect(ranFor).toBeLessThan(80_000);
    const adaptor = new ForkAdaptor();
    await waitUntil(
      'no process of the fork:// pilot left',
      async () => (await adaptor.remaining(pilot.record.job!)).length === 0,
      5_000
    );
  });

  it('a SLURM job past its time limit is Failed with the TIMEOUT reason, after SIGTERM reached it', async ({
    expect
  }) => {
    const overSsh = slurmOverSsh(testbed, pool);
    const spec = await shellSpec(
      testbed,
      'walltime',
      'trap "echo graceful stop on TERM; exit 0" TERM; echo started; while :; do sleep 1; done'
    );
    cleanups.push(spec.workDir);
    const job = await overSsh.launch({
      ...spec,
      resources: { numberOfNodes: 1, walltimeMinutes: 1 }
    });
    const status = await waitForStatus(
      overSsh,
      job,
      s => s.state !== 'Running' && s.state !== 'Pending',
      180_000
    );
    expect(status.state).toBe('Failed');
    expect(status.nativeState).toBe('TIMEOUT');
    expect(status.reason).toMatch(
      new RegExp(`SLURM job ${job.jobId} reached its time limit: TIMEOUT`)
    );
    expect(await readFile(spec.stdoutPath, 'utf8')).toContain('graceful stop on TERM');
  });

  it('a slurm+ssh:// pilot stops gracefully at its walltime, before the scheduler ends the job, and logs it', async ({
    expect
  }) => {
    const pilot = await createPilot(client.resource);
    await pilot.wait('Running', { timeoutMs: 120_000 });
    const nodes = nodesOf(pilot);
    await pilot.wait('Done', { timeoutMs: 120_000 });
    expect(pilot.record.reason).toBe(
      "walltime of 1 minutes reached (stopping 6 s before the scheduler's limit)"
    );
    const log = await readFile(join(pilot.record.workDir!, 'supervisor.log'), 'utf8');
    expect(log).toMatch(/stopping the framework: walltime of 1 minutes reached/);
    expect(log).toMatch(/pilot pilot-\w+ is Done: walltime of 1 minutes reached/);
    const jobId = pilot.record.job!.jobId;
    await waitUntil(
      `job ${jobId} to end`,
      async () => (await slurmState(testbed, jobId)) !== 'RUNNING',
      60_000
    );
    // The supervisor ended the job itself: SLURM did not have to time it out.
    expect(await slurmState(testbed, jobId)).toBe('COMPLETED');
    await waitUntil(
      `no process of the pilot left on ${nodes.join(', ')}`,
      async () => (await processesOnNodes(testbed, nodes)).length === 0,
      30_000
    );
  });

  it('a slurm+ssh:// pilot that waited over a minute in the queue still gets its full walltime', async ({
    expect
  }) => {
    // A user hold keeps the job queued until this test releases it (as a busy cluster would).
    const pilot = await createPilot(client.resource, { schedulerOptions: ['--hold'] });
    const created = Date.parse(pilot.record.createdAt);
    await waitUntil(
      'the pilot to show its job as held in the queue',
      async () => /^Queued: .*JobHeldUser/.test((await pilot.refresh()).progress?.stage ?? ''),
      30_000
    );
    await sleepUntil(created + 65_000);
    expect((await pilot.refresh()).state).toBe('Pending');
    await run(['scontrol', 'release', pilot.record.job!.jobId], {
      env: { ...process.env, ...testbed.env }
    });
    await pilot.wait('Running', { timeoutMs: 120_000 });
    const nodes = nodesOf(pilot);
    const started = Date.parse(pilot.record.startedAt ?? '');
    expect(started - created).toBeGreaterThan(60_000);
    // Counted from createdAt, the walltime would have been over before the job ran; counted
    // from the job's start it ends 6 s (a tenth, the margin) before SLURM's limit of 60 s.
    await sleepUntil(started + 45_000);
    expect((await pilot.refresh()).state).toBe('Running');
    await waitUntil(
      'the pilot to end at its walltime',
      async () => (await pilot.refresh()).state !== 'Running',
      60_000
    );
    expect(pilot.state).toBe('Done');
    expect(pilot.record.reason).toMatch(/^walltime of 1 minutes reached/);
    const ended = Date.parse(pilot.record.history.at(-1)!.at);
    console.log(`queued ${started - created} ms; ended ${ended - started} ms after its start`);
    expect(ended - started).toBeGreaterThanOrEqual(54_000);
    // Done is recorded once the framework has stopped gracefully, a few seconds after.
    expect(ended - started).toBeLessThan(70_000);
    await waitUntil(
      `no process of the pilot left on ${nodes.join(', ')}`,
      async () => (await processesOnNodes(testbed, nodes)).length === 0,
      30_000
    );
  });
});
