import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PilotComputeService, type ComputeUnit, type Pilot } from '../../../src/pilot/index.js';
import type { KafkaDetails } from '../../../src/protocol/index.js';
import { sessionMembers } from '../../../src/resource/fork/processes.js';
import { listeningSockets } from '../../support/pilot-home.js';
import { distModule } from '../../support/paths.js';
import { processesOnNodes } from '../../testbed/node-processes.js';
import { openPilotClient, type PilotClient } from '../../testbed/pilot-client.js';

const testbed = inject('testbed');

/** Kafka messages `count` values from `prefix`, with the SHA-256 of their sorted values. */
function messages(prefix: string, count: number): { values: string[]; digest: string } {
  const values = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  return { values, digest: digestOf(values) };
}

function digestOf(values: string[]): string {
  return createHash('sha256')
    .update([...values].sort().join('\n'))
    .digest('hex');
}

// A Kafka pilot on 3 nodes of the testbed's SLURM cluster, reached only through its login node's
// sshd: the client on this host never talks to a node directly.
describe('a 3-node Kafka pilot over slurm+ssh://', () => {
  let client: PilotClient;
  let service: PilotComputeService;
  let pilot: Pilot;
  let listenersBefore: string[] = [];
  /** A function and an executable unit that ran, read again once the pilot has ended. */
  const finished: { fn?: string; exe?: string } = {};

  beforeAll(async () => {
    client = await openPilotClient(testbed, testbed.ssh);
    service = client.service;
  });

  afterAll(async () => {
    await client.close([pilot]);
  });

  it('reaches Running with a broker and an agent on each node', async () => {
    listenersBefore = await listeningSockets();
    const started = Date.now();
    pilot = await service.createPilot({
      type: 'kafka',
      resource: client.resource,
      numberOfNodes: 3,
      walltimeMinutes: 20
    });
    await pilot.wait('Running', { timeoutMs: 180_000 });
    console.log(`3-node pilot Running in ${Date.now() - started} ms`);
    const details = (await pilot.details()) as KafkaDetails;
    const nodeNames = testbed.slurm.nodes.map(node => node.name);
    expect(details.brokers).toHaveLength(3);
    expect(details.brokers.map(broker => broker.nodeId).sort()).toEqual([1, 2, 3]);
    const addresses = new Map(testbed.slurm.nodes.map(node => [node.name, node.address]));
    for (const broker of details.brokers) {
      expect(nodeNames).toContain(broker.node);
      expect(broker.host).toBe(addresses.get(broker.node!));
    }
    expect(new Set(details.brokers.map(broker => broker.node)).size).toBe(3);
    expect(details.controllers).toHaveLength(3);
    expect(pilot.record.agents?.map(agent => agent.node).sort()).toEqual(
      details.brokers.map(broker => broker.node).sort()
    );
    // The pilot's files are in the resource's pilot home, not the client's.
    expect(pilot.record.workDir).toBe(join(client.resourceHome, 'pilots', pilot.id));
  });

  it('produces and consumes through the context tunnelled over ssh', async () => {
    const kafka = await pilot.getContext();
    const admin = kafka.admin();
    await admin.connect();
    const topic = 'tunnelled';
    await admin.createTopics({ topics: [{ topic, numPartitions: 6 }], waitForLeaders: true });
    const cluster = await admin.describeCluster();
    expect(cluster.brokers).toHaveLength(3);
    await admin.disconnect();
    const sent = messages('tunnelled', 3_000);
    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    for (let i = 0; i < sent.values.length; i += 500) {
      await producer.send({
        topic,
        messages: sent.values.slice(i, i + 500).map(value => ({ value }))
      });
    }
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'tunnelled-readers' });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`consumed ${received.length} of ${sent.values.length}`)),
        90_000
      );
      consumer
        .run({
          eachMessage: async ({ message }) => {
            received.push(message.value!.toString());
            if (received.length === sent.values.length) {
              clearTimeout(timer);
              resolve();
            }
          }
        })
        .catch(reject);
    });
    await consumer.disconnect();
    expect(received).toHaveLength(sent.values.length);
    expect(digestOf(received)).toBe(sent.digest);
    // Everything went through the ssh connection: no port was opened on this host, which is
    // also the login node.
    const opened = (await listeningSockets()).filter(socket => !listenersBefore.includes(socket));
    expect(opened).toEqual([]);
  });

  it('runs 200 function and 50 executable units over the three nodes', async () => {
    const started = Date.now();
    const functions: ComputeUnit[] = [];
    for (let i = 0; i < 200; i++) {
      functions.push(
        await pilot.submit((n: number) => {
          // eslint-disable-next-line @typescript-eslint/no-require-imports -- the agent provides require() to units
          const { hostname } = require('node:os') as typeof import('node:os');
          return { square: n * n, host: hostname() };
        }, i)
      );
    }
    const executables: ComputeUnit[] = [];
    for (let i = 0; i < 50; i++) {
      executables.push(
        await pilot.submit({ executable: 'sh', arguments: ['-c', `echo $(hostname) ${i}`] })
      );
    }
    const records = await service.waitAll([...functions, ...executables], { timeoutMs: 240_000 });
    console.log(`250 units Done in ${Date.now() - started} ms`);
    expect(records.filter(unit => unit.state !== 'Done')).toEqual([]);
    const perNode = new Map<string, number>();
    for (const unit of records) perNode.set(unit.node, (perNode.get(unit.node) ?? 0) + 1);
    console.log(`units per node: ${JSON.stringify(Object.fromEntries(perNode))}`);
    expect(perNode.size).toBe(3);
    for (let i = 0; i < 200; i++) {
      const value = (await functions[i]!.result()) as { square: number; host: string };
      expect(value).toEqual({ square: i * i, host: records[i]!.node });
    }
    for (let i = 0; i < 50; i++) {
      const output = (await executables[i]!.result()) as { stdout: string };
      expect(output.stdout).toBe(`${records[200 + i]!.node} ${i}\n`);
    }
    finished.fn = functions[7]!.id;
    finished.exe = executables[7]!.id;
    const throwing = await pilot.submit(() => {
      throw new TypeError('no such frame on this node');
    });
    const [failed] = await service.waitAll([throwing], { timeoutMs: 60_000 });
    expect(failed!.state).toBe('Failed');
    expect(failed!.error?.name).toBe('TypeError');
    expect(failed!.error?.message).toBe('no such frame on this node');
    expect(failed!.error?.stack).toMatch(/no such frame on this node\n\s+at /);
  });

  it('is reattached by id from a new process, which cancels it; nothing is left on the nodes', async () => {
    const child = await promisify(execFile)(
      process.execPath,
      [
        join(import.meta.dirname, '../../support/cancel-child.mjs'),
        distModule('pilot/index.js'),
        client.home,
        client.cacheDir,
        pilot.id
      ],
      { env: process.env, timeout: 120_000 }
    );
    const report = JSON.parse(child.stdout) as { before: string; after: string; ms: number };
    console.log(`reattached and canceled from a new process in ${report.ms} ms`);
    expect(report).toMatchObject({ before: 'Running', after: 'Canceled' });
    expect((await service.getPilot(pilot.id)).state).toBe('Canceled');
    expect(await processesOnNodes(testbed)).toEqual([]);
    // The units' records and results stay readable from the resource (over SFTP).
    expect(await pilot.listUnits()).toHaveLength(251);
    const fn = await service.getUnit(finished.fn!);
    expect(fn.state).toBe('Done');
    expect(await fn.result()).toMatchObject({ square: 49 });
    const exe = await service.getUnit(finished.exe!);
    expect(((await exe.result()) as { stdout: string }).stdout).toBe(`${exe.record.node} 7\n`);
  });
});

// The same over ssh:// to one host (the login node itself): no scheduler, one node on loopback.
describe('a Kafka pilot over ssh://', () => {
  let client: PilotClient;
  let pilot: Pilot | undefined;

  beforeAll(async () => {
    client = await openPilotClient(testbed, testbed.ssh);
  });

  afterAll(async () => {
    await client?.close([pilot]);
  });

  it('runs on the host, serves a tunnelled context and units, and cancels leaving nothing', async () => {
    const { ssh } = testbed;
    pilot = await client.service.createPilot({
      type: 'kafka',
      resource: `ssh://${ssh.user}@${ssh.host}:${ssh.port}`
    });
    await pilot.wait('Running', { timeoutMs: 120_000 });
    const details = (await pilot.details()) as KafkaDetails;
    expect(details.brokers).toMatchObject([{ nodeId: 1, host: '127.0.0.1' }]);
    const kafka = await pilot.getContext();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'over-ssh', messages: [{ value: 'hello' }] });
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets('over-ssh');
    await admin.disconnect();
    expect(offsets.map(offset => offset.high)).toEqual(['1']);
    const unit = await pilot.submit((a: number, b: number) => a * b, 6, 7);
    expect(await unit.result()).toBe(42);
    const job = pilot.record.job!;
    await pilot.cancel();
    expect(pilot.state).toBe('Canceled');
    // The supervisor's session (broker, agent) is gone from the host (zombies aside, which the
    // host's init reaps in its own time).
    expect(await sessionMembers(job.pid!, job.pidStartTime)).toEqual([]);
  });
});

// Walltime is what the job gets once it runs, as SLURM counts it: the time its record waited in
// the queue before that must not come off it.
