import * as grpc from '@grpc/grpc-js';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { IntrospectionTokenVerifier } from '../../../src/scistream/auth/token-verifier.js';
import type { ControlServer } from '../../../src/scistream/s2cs/control-server.js';
import { Gateway } from '../../../src/scistream/s2uc/gateway.js';
import { ScistreamClient, type Stream } from '../../../src/scistream/s2uc/scistream-client.js';
import { LoopbackGateways } from '../../testbed/scistream/loopback-gateways.js';
import { consume, Producer } from '../../testbed/scistream/stream-peers.js';

const MiB = 1024 * 1024;

function split(listener: string): [string, number] {
  const [host, port] = listener.split(':');
  return [host, Number(port)];
}

/** The gRPC status code of a rejected call. */
async function codeOf(promise: Promise<unknown>): Promise<{ code: number; message: string }> {
  try {
    await promise;
  } catch (error) {
    const cause = (error as { cause?: grpc.ServiceError }).cause;
    return { code: cause?.code ?? -1, message: (error as Error).message };
  }
  throw new Error('call was expected to fail but succeeded');
}

describe('security of control and data channels', () => {
  const bed = new LoopbackGateways();
  const tokens: Record<string, string> = {};
  const gateways: Gateway[] = [];
  let producer: Producer;
  let alice: ScistreamClient;
  let aliceStream: Stream;

  async function gw(server: ControlServer, token?: string): Promise<Gateway> {
    const gateway = await bed.gateway(server, token);
    gateways.push(gateway);
    return gateway;
  }

  /** Alice's stream still carries data intact. */
  async function aliceStreamWorks(): Promise<void> {
    const [host, port] = split(aliceStream.consumerListeners[0]);
    const before = producer.sent.get(producer.ports[0])?.length ?? 0;
    const received = await consume(host, port);
    const sent = producer.sent.get(producer.ports[0])![before];
    expect(received).toEqual({ bytes: 4 * MiB, sha256: sent.sha256 });
  }

  beforeAll(async () => {
    await bed.start();
    tokens.alice = await bed.issuer.token(bed.issuer.clients.alice);
    tokens.bob = await bed.issuer.token(bed.issuer.clients.bob);
    tokens.mallory = await bed.issuer.token(bed.issuer.clients.mallory);
    producer = new Producer(4 * MiB);
    await producer.listen('127.0.0.1', 1);
    alice = new ScistreamClient({
      producer: await gw(bed.producer, tokens.alice),
      consumer: await gw(bed.consumer, tokens.alice)
    });
    aliceStream = await alice.createStream({
      producerListeners: [`127.0.0.1:${producer.ports[0]}`],
      numConn: 2
    });
  });

  afterAll(async () => {
    for (const gateway of gateways) gateway.close();
    await producer?.close();
    await bed.stop();
  });

  test('a call without a token is refused as unauthenticated', async () => {
    const anonymous = await gw(bed.producer);
    const { code, message } = await codeOf(anonymous.req(randomUUID(), 'PROD', 1));
    expect(code).toBe(grpc.status.UNAUTHENTICATED);
    expect(message).toMatch(/missing "authorization"/);
    expect((await codeOf(anonymous.list())).code).toBe(grpc.status.UNAUTHENTICATED);
  });

  test('an expired token is refused', async () => {
    const shortLived = await bed.issuer.token(bed.issuer.clients.alice, { shortLived: true });
    await new Promise(resolve => setTimeout(resolve, 2100));
    const gateway = await gw(bed.producer, shortLived);
    const { code, message } = await codeOf(gateway.release(aliceStream.uid));
    expect(code).toBe(grpc.status.UNAUTHENTICATED);
    expect(message).toMatch(/token expired/);
  });

  test('a forged token (signed by another key) is refused', async () => {
    const [header, payload] = tokens.alice.split('.');
    const forged = `${header}.${payload}.${randomBytes(256).toString('base64url')}`;
    const { code, message } = await codeOf((await gw(bed.producer, forged)).list());
    expect(code).toBe(grpc.status.UNAUTHENTICATED);
    expect(message).toMatch(/token rejected/);
  });

  test('a valid token without the scistream scope is refused', async () => {
    const gateway = await gw(bed.producer, tokens.mallory);
    const { code, message } = await codeOf(gateway.req(randomUUID(), 'PROD', 1));
    expect(code).toBe(grpc.status.PERMISSION_DENIED);
    expect(message).toMatch(/lacks the required scope "scistream"/);
  });

  test("another identity can neither release, update, inspect nor take the key of alice's session", async () => {
    for (const server of [bed.producer, bed.consumer]) {
      const bob = await gw(server, tokens.bob);
      for (const call of [
        bob.release(aliceStream.uid),
        bob.update(aliceStream.uid, ['127.0.0.1:9'], server === bed.producer ? 'PROD' : 'CONS'),
        bob.status(aliceStream.uid),
        bob.metrics(aliceStream.uid)
      ]) {
        const { code, message } = await codeOf(call);
        expect(code).toBe(grpc.status.PERMISSION_DENIED);
        expect(message).toMatch(/belongs to another identity/);
      }
      expect(await bob.list()).toEqual([]);
    }
    const bob = await gw(bed.producer, tokens.bob);
    expect((await codeOf(bob.sessionKey(aliceStream.uid))).code).toBe(
      grpc.status.PERMISSION_DENIED
    );
    await aliceStreamWorks();
  });

  test('a wrong key or no TLS on the data channel never reaches the producer', async () => {
    const connectionsBefore = producer.connections;
    const [host, port] = split(aliceStream.producerGatewayListeners[0]);
    const attempt = (psk: Buffer, identity: string) =>
      new Promise<string>(resolve => {
        const socket = tls.connect({
          host,
          port,
          minVersion: 'TLSv1.3',
          ciphers: 'TLS_AES_128_GCM_SHA256',
          checkServerIdentity: () => undefined,
          pskCallback: () => ({ identity, psk })
        });
        socket.on('secureConnect', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.on('error', error => resolve(error.message));
      });
    expect(await attempt(randomBytes(32), aliceStream.uid)).not.toBe('connected');
    expect(await attempt(randomBytes(32), 'someone-else')).not.toBe('connected');
    // Plain TCP to the encrypted port: the gateway closes it, nothing is forwarded.
    const plain = await consume(host, port, 1024).catch((error: Error) => error.message);
    expect(plain).not.toMatchObject({ bytes: 4 * MiB });
    await new Promise(resolve => setTimeout(resolve, 200));
    expect(producer.connections).toBe(connectionsBefore);
    await aliceStreamWorks();
  });

  test('a malformed gRPC message is refused and the server keeps serving', async () => {
    const client = new grpc.Client(
      `127.0.0.1:${bed.producer.port}`,
      grpc.credentials.createSsl(await readFile(bed.ca.certFile))
    );
    const metadata = new grpc.Metadata();
    metadata.set('authorization', tokens.alice);
    const send = (bytes: number[]) =>
      new Promise<grpc.ServiceError | null>(resolve =>
        client.makeUnaryRequest(
          '/scistream.Control/req',
          (value: Buffer) => value,
          (value: Buffer) => value,
          Buffer.from(bytes),
          metadata,
          error => resolve(error)
        )
      );
    // Truncated varints cannot be decoded at all: refused before any handler runs.
    for (const bytes of [[0xff], [0x08, 0xff]]) {
      const error = await send(bytes);
      expect(error?.code).toBe(grpc.status.INTERNAL);
      expect(error?.details).toMatch(/deserializ/i);
    }
    // Bytes the (lenient) decoder turns into a message end in argument validation.
    for (const bytes of [
      [0x0f, 0x01],
      [0x0a, 0x10, 0x41, 0x00],
      [0x0a, 0x01, 0x2f, 0x12, 0x01, 0x58]
    ]) {
      const error = await send(bytes);
      expect(error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    }
    client.close();
    expect(bed.producer.sessionCount).toBe(1);
    await aliceStreamWorks();
  });

  test('bad arguments are refused with the key, the value and what is expected', async () => {
    const gateway = await gw(bed.producer, tokens.alice);
    // Thunks: each call starts only when awaited, so no rejection waits unhandled meanwhile.
    const cases: [() => Promise<unknown>, RegExp][] = [
      [
        () => gateway.req(randomUUID(), 'PROD', 1, 0, { backend: 'stunel' }),
        /Unknown S2DS backend "stunel": expected one of native, stunnel, haproxy/
      ],
      [
        () => gateway.req(randomUUID(), 'FOO' as 'PROD', 1),
        /role: "FOO" is not a role; expected PROD or CONS/
      ],
      [
        () => gateway.req(randomUUID(), 'PROD', 1000),
        /num_conn: 1000 is out of range; expected 1-64/
      ],
      [() => gateway.req('../etc/passwd', 'PROD', 1), /uid: "..\/etc\/passwd" is not a session id/],
      [
        () => gateway.hello(randomUUID(), ['no-port']),
        /prod_listeners: "no-port" is not an address; expected host:port/
      ],
      [() => gateway.release(randomUUID()), /no session with uid/]
    ];
    for (const [call, pattern] of cases) {
      const { code, message } = await codeOf(call());
      expect(message).toMatch(pattern);
      expect([grpc.status.INVALID_ARGUMENT, grpc.status.NOT_FOUND]).toContain(code);
    }
    expect(bed.producer.sessionCount).toBe(1);
  });

  test('a req waiting for hello blocks nothing else and gives its ports back on timeout', async () => {
    const server = bed.makeServer('short-hello', { helloTimeoutMs: 1500 });
    await server.start();
    try {
      const gateway = await gw(server, tokens.alice);
      const waiting = codeOf(gateway.req(randomUUID(), 'PROD', 3));
      // Meanwhile a whole other session is set up and released on the same server.
      const started = Date.now();
      const uid = randomUUID();
      const [reserved] = await Promise.all([
        gateway.req(uid, 'PROD', 1),
        gateway.hello(uid, ['127.0.0.1:9'])
      ]);
      expect(reserved.listeners).toHaveLength(1);
      await gateway.release(uid);
      expect(Date.now() - started).toBeLessThan(1000);
      const { code, message } = await waiting;
      expect(code).toBe(grpc.status.DEADLINE_EXCEEDED);
      expect(message).toMatch(/no hello for session .* within 1500 ms/);
      expect(server.portsInUse).toBe(0);
      expect(server.sessionCount).toBe(0);
    } finally {
      await server.close();
    }
  });

  test('token introspection (RFC 7662, as Globus Auth needs) authenticates and authorizes too', async () => {
    const server = bed.makeServer('introspecting', {
      auth: new IntrospectionTokenVerifier({
        endpoint: `${bed.issuer.issuer}/token/introspection`,
        clientId: bed.issuer.clients.bob.id,
        clientSecret: bed.issuer.clients.bob.secret,
        requiredScope: 'scistream'
      })
    });
    await server.start();
    const opaque = async (client: 'alice' | 'bob' | 'mallory') =>
      bed.issuer.token(bed.issuer.clients[client], { opaque: true });
    try {
      const uid = randomUUID();
      const asAlice = await gw(server, await opaque('alice'));
      await Promise.all([asAlice.req(uid, 'PROD', 1), asAlice.hello(uid, ['127.0.0.1:9'])]);
      expect((await asAlice.status(uid)).owner).toBe('alice');
      const bob = await codeOf((await gw(server, await opaque('bob'))).release(uid));
      expect(bob.code).toBe(grpc.status.PERMISSION_DENIED);
      const mallory = await codeOf((await gw(server, await opaque('mallory'))).list());
      expect(mallory.code).toBe(grpc.status.PERMISSION_DENIED);
      const garbage = await codeOf((await gw(server, randomBytes(24).toString('hex'))).list());
      expect(garbage).toMatchObject({ code: grpc.status.UNAUTHENTICATED });
      expect(garbage.message).toMatch(/inactive or expired/);
      await asAlice.release(uid);
    } finally {
      await server.close();
    }
  });

  test('tokens never appear in the gateways logs', () => {
    expect(bed.logs.length).toBeGreaterThan(0);
    const text = bed.logs.join('\n');
    for (const token of Object.values(tokens)) expect(text).not.toContain(token.slice(-20));
  });
});
