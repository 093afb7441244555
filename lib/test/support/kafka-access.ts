import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type ISocketFactory, type KafkaConfig } from 'kafkajs';
import { expect } from 'vitest';
import {
  issuePilotCredentials,
  readClientCredentials,
  type KafkaClientCredentials
} from '../../src/frameworks/kafka/tls.js';

/**
 * What a kafkajs client with `ssl` (none: plaintext) gets from one broker alone: the cluster id
 * it describes, or the error that refused it.
 */
export async function tryBroker(
  server: string,
  ssl: KafkaConfig['ssl'],
  socketFactory?: ISocketFactory
): Promise<{ clusterId: string } | { refused: string }> {
  const admin = new Kafka({
    clientId: 'access-test',
    brokers: [server],
    ...(ssl !== undefined ? { ssl } : {}),
    ...(socketFactory !== undefined ? { socketFactory } : {}),
    connectionTimeout: 3000,
    requestTimeout: 5000,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING
  }).admin();
  try {
    await admin.connect();
    return { clusterId: (await admin.describeCluster()).clusterId };
  } catch (error) {
    return { refused: (error as Error).message };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * A raw TLS connection to `host:port` (any listener, the KRaft controller's too): "accepted" when
 * the handshake completes and the server keeps the connection open for a while (it waits for a
 * request), otherwise the reason it ended. TLS 1.3 servers check a client's certificate after
 * the client's handshake is done, so a refusal arrives as an alert just after.
 */
export function tryTls(
  host: string,
  port: number,
  options: ConnectionOptions,
  holdMs = 1500
): Promise<'accepted' | { refused: string }> {
  return new Promise(resolve => {
    const socket = tlsConnect({ host, port, ...options });
    let done = false;
    const end = (result: 'accepted' | { refused: string }): void => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(result);
    };
    socket.once('secureConnect', () => {
      setTimeout(() => end('accepted'), holdMs);
    });
    socket.once('error', error => end({ refused: error.message }));
    socket.once('close', () => end({ refused: 'closed by the server' }));
  });
}

/** The ways a client without the pilot's credentials may try a broker. */
export function strangers(
  ca: string,
  foreign: KafkaClientCredentials
): { name: string; ssl: KafkaConfig['ssl'] }[] {
  return [
    { name: 'plaintext', ssl: undefined },
    { name: 'TLS trusting the pilot, no certificate', ssl: { ca: [ca] } },
    {
      name: 'TLS with a certificate of another authority',
      ssl: { ca: [ca], cert: foreign.cert, key: foreign.key }
    }
  ];
}

/** Client credentials of a stranger: a certificate from an authority of its own. */
export async function foreignCredentials(): Promise<KafkaClientCredentials> {
  const dir = await mkdtemp(join(tmpdir(), 'foreign-ca-'));
  try {
    await issuePilotCredentials({ pilotId: 'stranger', tlsDir: dir, hosts: ['127.0.0.1'] });
    return await readClientCredentials(dir, path => readFile(path));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Every broker in `servers`, tried alone: each refuses every stranger (plaintext, TLS without a
 * certificate, a certificate of another authority) and serves a client with `own` credentials.
 */
export async function expectOnlyPilotClients(options: {
  servers: readonly string[];
  own: KafkaClientCredentials;
  clusterId: string;
  socketFactory?: ISocketFactory;
}): Promise<void> {
  const { servers, own, clusterId, socketFactory } = options;
  const foreign = await foreignCredentials();
  for (const server of servers) {
    for (const stranger of strangers(own.ca, foreign)) {
      const result = await tryBroker(server, stranger.ssl, socketFactory);
      console.log(`${server}, ${stranger.name}: ${JSON.stringify(result)}`);
      expect({ server, client: stranger.name, result }).toEqual({
        server,
        client: stranger.name,
        result: { refused: expect.any(String) }
      });
    }
    // The same broker serves a client with the pilot's certificate.
    expect({ server, result: await tryBroker(server, own, socketFactory) }).toEqual({
      server,
      result: { clusterId }
    });
  }
}
