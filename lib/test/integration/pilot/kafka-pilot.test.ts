import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { PilotRecord, StateChange } from '../../../src/protocol/index.js';
import { ForkAdaptor } from '../../../src/resource/fork/adaptor.js';
import { readProcessStat } from '../../../src/resource/fork/processes.js';
import { distModule } from '../../support/paths.js';
import {
  connectionRefused,
  isListening,
  processesMentioning,
  usePilotTestHome
} from '../../support/pilot-home.js';

const run = promisify(execFile);
const description = { type: 'kafka', resource: 'fork://localhost' } as const;

describe('Kafka pilot on fork://localhost', () => {
  const test = usePilotTestHome('test');

  it('starts, serves produce and consume in a group, and is reattached from a new process', async () => {
    const started = Date.now();
    const pilot = await test.service.createPilot({ ...description, name: 'integration' });
    expect(pilot.state).toBe('Pending');
    expect(await pilot.wait('Running', { timeoutMs: 170_000 })).toBe('Running');
    console.log(`pilot ${pilot.id}: create -> Running in ${Date.now() - started} ms`);

    const details = await pilot.details();
    expect(details.type).toBe('kafka');
    expect(details.kafkaVersion).toMatch(/^4\./);
    expect(details.bootstrapServers).toHaveLength(1);
    expect(details.bootstrapServers[0]).toMatch(/^127\.0\.0\.1:\d+$/);

    const kafka = await pilot.getContext();
    expect(await pilot.getContext()).toBe(kafka);
    const admin = kafka.admin();
    await admin.connect();
    try {
      expect((await admin.describeCluster()).clusterId).toBe(details.clusterId);
      const topic = 'integration-topic';
      await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true });
      const producer = kafka.producer();
      await producer.connect();
      await producer.send({
        topic,
        messages: Array.from({ length: 300 }, (_, i) => ({ key: String(i % 7), value: `m${i}` }))
      });
      await producer.disconnect();

      const consumer = kafka.consumer({ groupId: 'integration-group' });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const seen = new Set<string>();
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            eachMessage: async ({ message }) => {
              seen.add(message.value!.toString());
              if (seen.size === 300) resolve();
            }
          })
          .catch(reject);
      });
      await consumer.disconnect();
      expect(seen.size).toBe(300);
      // The group's committed offsets reach the end of every partition.
      const ends = await admin.fetchTopicOffsets(topic);
      const [committed] = await admin.fetchOffsets({
        groupId: 'integration-group',
        topics: [topic]
      });
      for (const end of ends) {
        const partition = committed!.partitions.find(p => p.partition === end.partition);
        expect(partition?.offset).toBe(end.high);
      }

      // A new Node process (as after a kernel restart) finds the pilot and uses its context.
      const { stdout } = await run(
        process.execPath,
        [
          join(import.meta.dirname, '..', '..', 'support', 'reattach-child.mjs'),
          distModule('pilot/index.js'),
          test.home,
          test.cacheDir,
          pilot.id,
          topic
        ],
        { timeout: 90_000 }
      );
      const child = JSON.parse(stdout.trim().split('\n').pop()!) as {
        state: string;
        details: unknown;
        consumed: string[];
      };
      expect(child.state).toBe('Running');
      expect(child.details).toEqual(details);
      // A new group reads everything: our 300 and the child's 25.
      expect(child.consumed).toHaveLength(25);
      const ends2 = await admin.fetchTopicOffsets(topic);
      expect(ends2.reduce((sum, p) => sum + Number(p.high), 0)).toBe(325);
    } finally {
      await admin.disconnect();
    }
    expect((await test.newService().getPilot(pilot.id)).state).toBe('Running');
  });

  it('cancels gracefully: Canceled with events, no process, no listening port', async () => {
    const pilot = await test.service.createPilot(description);
    await pilot.wait('Running', { timeoutMs: 170_000 });
    const record = pilot.record;
    const port = Number(record.details!.bootstrapServers[0]!.split(':')[1]);
    const pids = await new ForkAdaptor().remaining(record.job!);
    // The supervisor and the broker, in the supervisor's own session.
    expect(pids.length).toBeGreaterThanOrEqual(2);
    expect(pids).toContain(record.job!.pid);
    const stat = await readProcessStat(record.job!.pid!);
    expect(stat?.session).toBe(record.job!.pid);
    expect(stat?.processGroup).toBe(record.job!.pid);
    expect(await isListening(port)).toBe(true);

    const changes: StateChange[] = [];
    pilot.on('state', change => changes.push(change));
    // Another process's view (another service) hears of the change through the registry.
    const observer = test.newService();
    let seenCanceledAt: number | undefined;
    const watcher = observer.watch((records: PilotRecord[]) => {
      if (records.find(r => r.id === pilot.id)?.state === 'Canceled') seenCanceledAt ??= Date.now();
    });
    await new Promise(resolve => setTimeout(resolve, 300));

    const cancelStarted = Date.now();
    await pilot.cancel();
    const cancelEnded = Date.now();
    console.log(`cancel took ${cancelEnded - cancelStarted} ms`);
    expect(pilot.state).toBe('Canceled');
    expect(pilot.record.reason).toMatch(/SIGTERM/);
    expect(pilot.record.history.map(c => c.state)).toEqual([
      'New',
      'Pending',
      'Running',
      'Canceled'
    ]);
    for (const pid of pids) expect(await readProcessStat(pid)).toBeUndefined();
    expect(await new ForkAdaptor().remaining(record.job!)).toEqual([]);
    expect(await isListening(port)).toBe(false);
    expect(await connectionRefused(port)).toBe(true);
    expect(await processesMentioning(test.home)).toEqual([]);

    for (let i = 0; i < 30 && seenCanceledAt === undefined; i++) {
      await new Promise(resolve => setTimeout(resolve, 100));
    }
    watcher.close();
    expect(seenCanceledAt).toBeDefined();
    expect(seenCanceledAt! - cancelEnded).toBeLessThan(1000);
    for (let i = 0; i < 20 && changes.length === 0; i++) {
      await new Promise(resolve => setTimeout(resolve, 100));
    }
    expect(changes.map(change => change.state)).toContain('Canceled');

    // Cancelling again is harmless; details now name the state.
    await pilot.cancel();
    await expect(pilot.details()).rejects.toThrow(/is Canceled/);
    await expect(pilot.wait('Running', { timeoutMs: 1000 })).rejects.toThrow(/ended Canceled/);
  });

  it('cancels during start-up: Canceled, nothing left', async () => {
    const pilot = await test.service.createPilot(description);
    for (let i = 0; i < 100 && pilot.record.progress === undefined; i++) {
      await pilot.refresh();
      await new Promise(resolve => setTimeout(resolve, 50));
    }
    expect(pilot.state).toBe('Pending');
    await pilot.cancel();
    expect(pilot.state).toBe('Canceled');
    expect(pilot.record.history.map(change => change.state)).toEqual([
      'New',
      'Pending',
      'Canceled'
    ]);
    expect(await new ForkAdaptor().remaining(pilot.record.job!)).toEqual([]);
    expect(await processesMentioning(test.home)).toEqual([]);
  });
});
