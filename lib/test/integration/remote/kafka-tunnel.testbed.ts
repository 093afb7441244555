import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import {
  readClientCredentials,
  TLS_DIR,
  type KafkaClientCredentials
} from '../../../src/frameworks/kafka/tls.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { KafkaDetails } from '../../../src/protocol/index.js';
import { RemoteConnection, tunnelSocketFactory } from '../../../src/remote/index.js';
import { createPilotTestHome, type PilotTestHome } from '../../support/pilot-home.js';

const testbed = inject('testbed');

describe('a kafkajs client whose broker connections go through the ssh connection', () => {
  let home: PilotTestHome;
  let details: KafkaDetails;
  let connection: RemoteConnection;
  let ssl: KafkaClientCredentials;

  beforeAll(async () => {
    home = await createPilotTestHome();
    const pilot = await home.service.createPilot({ type: 'kafka', resource: 'fork://localhost' });
    await pilot.wait('Running', { timeoutMs: 240_000 });
    details = await pilot.details();
    // Its brokers take TLS clients with its certificate only: through the tunnel too.
    ssl = await readClientCredentials(join((await pilot.refresh()).workDir!, TLS_DIR), path =>
      readFile(path)
    );
    const { ssh } = testbed;
    connection = new RemoteConnection(
      { user: ssh.user, host: ssh.host, port: ssh.port },
      { knownHostsPath: ssh.knownHostsPath, identityFiles: [ssh.identityPath], agent: false }
    );
  });

  afterAll(async () => {
    await connection?.close();
    await home?.cleanup();
  });

  it('produces and consumes with every broker connection tunnelled', async () => {
    const tunnels: string[] = [];
    const factory = tunnelSocketFactory(connection);
    const kafka = new Kafka({
      clientId: 'tunnel-test',
      brokers: details.bootstrapServers,
      ssl,
      logLevel: logLevel.NOTHING,
      socketFactory: args => {
        tunnels.push(`${args.host}:${args.port}`);
        return factory(args);
      }
    });
    const topic = 'tunnelled';
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await admin.disconnect();

    const producer = kafka.producer();
    await producer.connect();
    const values = Array.from({ length: 500 }, (_, index) => `message-${index}`);
    await producer.send({ topic, messages: values.map(value => ({ value })) });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: 'tunnel-group' });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: string[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer
        .run({
          eachMessage: async ({ message }) => {
            received.push(message.value?.toString() ?? '');
            if (received.length === values.length) resolve();
          }
        })
        .catch(reject);
    });
    await consumer.disconnect();

    expect(received.sort()).toEqual([...values].sort());
    expect(tunnels.length).toBeGreaterThan(0);
    for (const address of tunnels) expect(details.bootstrapServers).toContain(address);
  });
});
