import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readClientCredentials, TLS_DIR } from '../../../src/frameworks/kafka/tls.js';
import {
  expectOnlyPilotClients,
  foreignCredentials,
  tryBroker,
  tryTls
} from '../../support/kafka-access.js';
import { usePilotTestHome } from '../../support/pilot-home.js';
import { smallKafkaPilot } from '../../support/small-kafka.js';

describe('Kafka pilot security on fork://localhost', () => {
  const test = usePilotTestHome('test');

  it('refuses every client without the pilot credentials on every listener; its own context works', async () => {
    const pilot = await test.service.createPilot({
      ...smallKafkaPilot,
      name: 'tls',
      configuration: { ...smallKafkaPilot.configuration, 'offsets.topic.num.partitions': '1' }
    });
    await pilot.wait('Running', { timeoutMs: 170_000 });
    const record = await pilot.refresh();
    const details = record.details!;
    expect(details.security).toBe('tls');

    // Secrets: 0600 files in a 0700 directory of the work dir, and never in the record.
    const tlsDir = join(record.workDir!, TLS_DIR);
    expect((await stat(tlsDir)).mode & 0o777).toBe(0o700);
    const files = await readdir(tlsDir);
    expect(files).toEqual(expect.arrayContaining(['ca.pem', 'ca-key.pem', 'broker.pem']));
    for (const file of files) {
      expect({ file, mode: (await stat(join(tlsDir, file))).mode & 0o777 }).toEqual({
        file,
        mode: 0o600
      });
    }
    const own = await readClientCredentials(tlsDir, path => readFile(path));
    const recordText = JSON.stringify(record);
    expect(recordText).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
    expect(recordText).not.toContain(own.key.split('\n')[1]!);

    await expectOnlyPilotClients({
      servers: details.bootstrapServers,
      own,
      clusterId: details.clusterId
    });
    // The controller listeners take TLS with the pilot's certificate only.
    const foreign = await foreignCredentials();
    for (const controller of details.controllers!) {
      const { host, port } = controller;
      expect(await tryTls(host, port, { ca: [own.ca], cert: own.cert, key: own.key })).toBe(
        'accepted'
      );
      expect(await tryTls(host, port, { ca: [own.ca] })).toEqual({ refused: expect.any(String) });
      expect(
        await tryTls(host, port, { ca: [own.ca], cert: foreign.cert, key: foreign.key })
      ).toEqual({ refused: expect.any(String) });
    }

    // The context gets the credentials from the pilot by itself.
    const kafka = await pilot.getContext();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'secured', messages: [{ value: 'over TLS' }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: 'secured-group' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'secured', fromBeginning: true });
    const value = await new Promise<string>((resolve, reject) => {
      consumer
        .run({ eachMessage: async ({ message }) => resolve(message.value!.toString()) })
        .catch(reject);
    });
    await consumer.disconnect();
    expect(value).toBe('over TLS');
  });

  it('listens PLAINTEXT only when asked to, and says so', async () => {
    const pilot = await test.service.createPilot({
      ...smallKafkaPilot,
      name: 'plaintext',
      configuration: { ...smallKafkaPilot.configuration, 'pilot.security': 'plaintext' }
    });
    await pilot.wait('Running', { timeoutMs: 170_000 });
    const record = await pilot.refresh();
    expect(record.details!.security).toBe('plaintext');
    const server = record.details!.bootstrapServers[0]!;
    expect(await tryBroker(server, undefined)).toEqual({ clusterId: record.details!.clusterId });
    const log = await readFile(join(record.workDir!, 'supervisor.log'), 'utf8');
    expect(log).toMatch(/listens PLAINTEXT \(pilot\.security=plaintext\): anyone who reaches/);
    await expect(stat(join(record.workDir!, TLS_DIR))).rejects.toThrow(/ENOENT/);
    const admin = (await pilot.getContext()).admin();
    await admin.connect();
    try {
      expect((await admin.describeCluster()).clusterId).toBe(record.details!.clusterId);
    } finally {
      await admin.disconnect();
    }
  });
});
