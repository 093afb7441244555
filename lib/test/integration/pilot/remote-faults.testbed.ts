import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Pilot } from '../../../src/pilot/index.js';
import type { PilotType } from '../../../src/protocol/index.js';
import { run } from '../../testbed/command.js';
import { waitUntil } from '../../testbed/daemons.js';
import { processOnNodes, waitForIdleNodes } from '../../testbed/node-processes.js';
import { openPilotClient, type PilotClient } from '../../testbed/pilot-client.js';
import { slurmState } from '../../testbed/slurm-jobs.js';
import { TestSshd } from '../../testbed/sshd.js';

const testbed = inject('testbed');
const slurmEnv = { ...process.env, ...testbed.env };

/** The Kafka broker with node id `nodeId` of `pilot`. */
function brokerOf(pilot: Pilot, nodeId: number): Promise<{ pid: number; node: string }> {
  const config = join(pilot.record.workDir!, 'kafka', `node-${nodeId}`, 'server.properties');
  return processOnNodes(testbed, 'java', [config]);
}

// Faults around pilots on the testbed's cluster, reached through a login sshd of this test's own
// (so that restarting it touches no other test).
describe('faults of slurm+ssh:// pilots', () => {
  let login: TestSshd;
  let client: PilotClient;
  const pilots: Pilot[] = [];

  beforeAll(async () => {
    login = await TestSshd.start(await mkdtemp(join(testbed.dir, 'login-')), testbed.env, {
      hostsFile: testbed.slurm.hostsFile
    });
    client = await openPilotClient(testbed, login.info);
  });

  afterAll(async () => {
    await client?.close(pilots);
    await login?.stop();
    await waitForIdleNodes(testbed, 60_000);
  });

  // Tests of what is not Kafka's (agents, the scheduler's queue) use Dask: it starts in seconds.
  async function runningPilot(numberOfNodes: number, type: PilotType = 'kafka'): Promise<Pilot> {
    const pilot = await client.service.createPilot({
      type,
      resource: client.resource,
      numberOfNodes,
      walltimeMinutes: 20
    });
    pilots.push(pilot);
    return pilot;
  }

  it('stays Running across an sshd restart; the client reconnects, then a killed broker fails it with the reason', async () => {
    const pilot = await runningPilot(2);
    await pilot.wait('Running', { timeoutMs: 180_000 });
    const kafka = await pilot.getContext();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'before-restart', messages: [{ value: 'one' }] });

    const restarted = Date.now();
    await login.restart();
    // The pilot lives on the nodes: the login node's restart drops connections, nothing else.
    expect((await pilot.refresh()).state).toBe('Running');
    await producer.send({ topic: 'before-restart', messages: [{ value: 'two' }] });
    const unit = await pilot.submit((a: number, b: number) => a + b, 2, 3);
    expect(await unit.result()).toBe(5);
    console.log(
      `after the sshd restart: record, produce and a unit in ${Date.now() - restarted} ms`
    );
    await producer.disconnect();
    expect((await pilot.refresh()).state).toBe('Running');

    const broker = await brokerOf(pilot, 2);
    const killed = Date.now();
    process.kill(broker.pid, 'SIGKILL');
    await expect(pilot.wait('Failed', { timeoutMs: 60_000 })).resolves.toBe('Failed');
    console.log(
      `broker 2 killed on ${broker.node} -> Failed in ${Date.now() - killed} ms: ${pilot.record.reason ?? ''}`
    );
    expect(pilot.record.reason).toMatch(
      /^Kafka broker 2 on node\d \(pid \d+\) exited with code 137 \(SIGKILL on its node\)/
    );
    await waitUntil(
      `job ${pilot.record.job!.jobId} to end`,
      async () =>
        !['RUNNING', 'COMPLETING'].includes(await slurmState(testbed, pilot.record.job!.jobId)),
      60_000
    );
    // The surviving broker and the agents were stopped too.
    await waitForIdleNodes(testbed, 10_000);
  });

  it('fails with the reason when the agent on another node dies', async () => {
    const pilot = await runningPilot(2, 'dask');
    await pilot.wait('Running', { timeoutMs: 180_000 });
    const remote = pilot.record.agents!.find(
      agent => agent.node !== pilot.record.agents![0]!.node
    )!;
    const agent = await processOnNodes(testbed, 'node', [
      '--pilot-id',
      pilot.id,
      '--node',
      remote.node
    ]);
    const killed = Date.now();
    process.kill(agent.pid, 'SIGKILL');
    await pilot.wait('Failed', { timeoutMs: 60_000 });
    console.log(
      `agent on ${agent.node} killed -> Failed in ${Date.now() - killed} ms: ${pilot.record.reason ?? ''}`
    );
    expect(pilot.record.reason).toMatch(
      new RegExp(
        `^the pilot agent on ${remote.node} \\(pid \\d+\\) exited with code 137 \\(SIGKILL on its node\\)`
      )
    );
    await waitForIdleNodes(testbed, 30_000);
  });

  it('is Canceled within 10 s of an scancel from outside, with nothing left on any node', async () => {
    const pilot = await runningPilot(2);
    await pilot.wait('Running', { timeoutMs: 180_000 });
    const jobId = pilot.record.job!.jobId;
    const canceled = Date.now();
    await run(['scancel', jobId], { env: slurmEnv });
    await pilot.wait('Canceled', { timeoutMs: 10_000 });
    console.log(`scancel -> Canceled in ${Date.now() - canceled} ms: ${pilot.record.reason ?? ''}`);
    await waitForIdleNodes(testbed, 30_000);
    console.log(`scancel -> no process on any node in ${Date.now() - canceled} ms`);
  });

  it('says why a pilot waits in the queue, and starts once nodes are free', async () => {
    const first = await runningPilot(3, 'dask');
    await first.wait('Running', { timeoutMs: 180_000 });
    // Pilots hold whole nodes: 3 of the 5 are taken, so 3 more must wait.
    const second = await runningPilot(3, 'dask');
    let stage = '';
    await waitUntil(
      'the second pilot to show why it waits',
      async () => {
        stage = (await second.refresh()).progress?.stage ?? '';
        return stage.startsWith('Queued');
      },
      30_000
    );
    console.log(`second pilot: ${stage}`);
    expect(stage).toMatch(/^Queued: SLURM job \d+ is PENDING \(reason (Resources|Priority)\)$/);
    expect(second.state).toBe('Pending');
    await first.cancel();
    await second.wait('Running', { timeoutMs: 180_000 });
    expect(second.record.progress).toBeUndefined();
    await second.cancel();
    await waitForIdleNodes(testbed, 30_000);
  });
});
