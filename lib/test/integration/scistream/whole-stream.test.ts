import { readdir } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import type { Gateway } from '../../../src/scistream/s2uc/gateway.js';
import { ScistreamClient } from '../../../src/scistream/s2uc/scistream-client.js';
import { LoopbackGateways } from '../../testbed/scistream/loopback-gateways.js';
import { consume, Producer } from '../../testbed/scistream/stream-peers.js';

const MiB = 1024 * 1024;

describe('whole stream across two gateways on loopback', () => {
  const bed = new LoopbackGateways();
  let producerGateway: Gateway;
  let consumerGateway: Gateway;
  let client: ScistreamClient;

  beforeAll(async () => {
    await bed.start();
    const token = await bed.issuer.token(bed.issuer.clients.alice);
    producerGateway = await bed.gateway(bed.producer, token);
    consumerGateway = await bed.gateway(bed.consumer, token);
    client = new ScistreamClient({ producer: producerGateway, consumer: consumerGateway });
  });

  afterAll(async () => {
    producerGateway?.close();
    consumerGateway?.close();
    await bed.stop();
  });

  for (const backend of ['native', 'stunnel', 'haproxy']) {
    test(`${backend}: 4 channels carry random data intact both ways, release frees everything`, async () => {
      const producer = new Producer(32 * MiB);
      const ports = await producer.listen('127.0.0.1', 4);
      try {
        const stream = await client.createStream({
          producerListeners: ports.map(port => `127.0.0.1:${port}`),
          numConn: 4,
          backend
        });
        expect(stream.consumerListeners).toHaveLength(4);
        const received = await Promise.all(
          stream.consumerListeners.map(listener => {
            const [host, port] = listener.split(':');
            // Ours keeps the other direction open after a half-close; stunnel lost data after an
            // early half-close in our runs, so the subprocess backends get a full-duplex consumer.
            return consume(host, Number(port), 4096, 600_000, backend === 'native');
          })
        );
        for (const [index, port] of ports.entries()) {
          const [sent] = producer.sent.get(port) ?? [];
          expect(sent, `channel ${index}`).toBeDefined();
          expect(received[index]).toEqual({ bytes: 32 * MiB, sha256: sent.sha256 });
          expect(sent.received).toBe(4096);
        }
        const status = await consumerGateway.status(stream.uid);
        expect(status).toMatchObject({ state: 'streaming', backend, num_conn: 4, owner: 'alice' });
        // Every backend counts bytes each way and connections per channel, on both gateways
        // (stunnel reports bytes when a connection closes, so wait for its close lines).
        const expected = { bytes_out: 4 * 32 * MiB, bytes_in: 4 * 4096 };
        for (const gateway of [consumerGateway, producerGateway]) {
          await vi.waitFor(
            async () => expect(await gateway.metrics(stream.uid)).toMatchObject(expected),
            { timeout: 10_000, interval: 100 }
          );
          const metrics = await gateway.metrics(stream.uid);
          for (const channel of metrics.channels) {
            expect(channel).toMatchObject({
              bytes_out: 32 * MiB,
              bytes_in: 4096,
              connections: 1,
              active_connections: 0
            });
            expect(channel.last_activity_ms).toBeGreaterThan(Date.now() - 60_000);
          }
        }
        await client.releaseStream(stream.uid);
        expect(bed.producer.portsInUse).toBe(0);
        expect(bed.consumer.portsInUse).toBe(0);
        expect(await readdir(join(bed.dir, 'producer', 'sessions'))).toEqual([]);
        expect(await readdir(join(bed.dir, 'consumer', 'run'))).toEqual([]);
        // Released: the consumer's ports no longer accept connections.
        const [host, port] = stream.consumerListeners[0].split(':');
        await expect(consume(host, Number(port))).rejects.toThrow(/ECONNREFUSED/);
      } finally {
        await producer.close();
      }
    });
  }

  test("the request's rate (Mbit/s) paces the stream; 0 leaves it unlimited", async () => {
    const producer = new Producer(8 * MiB);
    const ports = await producer.listen('127.0.0.1', 1);
    try {
      const timed = async (rate: number) => {
        const stream = await client.createStream({
          producerListeners: [`127.0.0.1:${ports[0]}`],
          numConn: 1,
          rate
        });
        const started = Date.now();
        const [host, port] = stream.consumerListeners[0].split(':');
        expect((await consume(host, Number(port))).bytes).toBe(8 * MiB);
        const seconds = (Date.now() - started) / 1000;
        await client.releaseStream(stream.uid);
        return seconds;
      };
      // 64 Mbit of data at 32 Mbit/s: about 2 s (less the 256 KiB bursts).
      const paced = await timed(32);
      const free = await timed(0);
      console.log(
        `8 MiB at rate 32 Mbit/s: ${paced.toFixed(2)} s; unlimited: ${free.toFixed(2)} s`
      );
      expect(paced).toBeGreaterThan(1.7);
      expect(paced).toBeLessThan(6);
      expect(free).toBeLessThan(paced / 2);
    } finally {
      await producer.close();
    }
  });

  for (const backend of ['native', 'stunnel', 'haproxy']) {
    test(`${backend}: counters while a connection is open (live, or at close for stunnel bytes)`, async () => {
      const producer = new Producer(256 * MiB);
      const ports = await producer.listen('127.0.0.1', 1);
      const stream = await client.createStream({
        producerListeners: [`127.0.0.1:${ports[0]}`],
        numConn: 1,
        backend
      });
      const [host, port] = stream.consumerListeners[0].split(':');
      // A slow consumer (a pause after every chunk) keeps the stream flowing for seconds.
      const socket = net.connect({ host, port: Number(port) });
      let received = 0;
      socket.on('data', chunk => {
        received += chunk.length;
        socket.pause();
        setTimeout(() => socket.resume(), 5);
      });
      try {
        await vi.waitFor(() => expect(received).toBeGreaterThan(1 * MiB), { timeout: 10_000 });
        await new Promise(resolve => setTimeout(resolve, 2_200));
        const [channel] = (await consumerGateway.metrics(stream.uid)).channels;
        expect(channel).toMatchObject({ connections: 1, active_connections: 1 });
        if (backend === 'stunnel') {
          expect(channel.bytes_out).toBe(0);
        } else {
          expect(channel.bytes_out).toBeGreaterThan(received - 1);
          expect(channel.throughput_bps).toBeGreaterThan(0);
          expect(channel.last_activity_ms).toBeGreaterThan(Date.now() - 2_000);
        }
      } finally {
        socket.destroy();
        await client.releaseStream(stream.uid);
        await producer.close();
      }
    });

    if (backend === 'native') continue;
    test(`${backend}: a rate it cannot enforce is refused, naming the backend and the field`, async () => {
      await expect(
        client.createStream({ producerListeners: ['127.0.0.1:9'], numConn: 2, rate: 10, backend })
      ).rejects.toThrow(
        new RegExp(`rate: 10 Mbit/s cannot be enforced by the "${backend}" S2DS backend`)
      );
      expect(bed.producer.sessionCount + bed.consumer.sessionCount).toBe(0);
      expect(bed.producer.portsInUse + bed.consumer.portsInUse).toBe(0);
    });
  }

  test("version and list describe the gateway and the caller's sessions", async () => {
    expect(await producerGateway.version()).toEqual({
      protocol_version: '1.0',
      server: 'pilot-streaming s2cs',
      backends: ['native', 'stunnel', 'haproxy'],
      auth_required: true
    });
    const producer = new Producer(1);
    const ports = await producer.listen('127.0.0.1', 1);
    try {
      const stream = await client.createStream({
        producerListeners: [`127.0.0.1:${ports[0]}`],
        numConn: 3
      });
      const [listed] = await producerGateway.list();
      expect(listed).toMatchObject({
        uid: stream.uid,
        role: 'PROD',
        state: 'streaming',
        num_conn: 3,
        listeners: stream.producerGatewayListeners,
        targets: [`127.0.0.1:${ports[0]}`]
      });
      await client.releaseStream(stream.uid);
      expect(await producerGateway.list()).toEqual([]);
    } finally {
      await producer.close();
    }
  });

  test('set-up time of one whole stream is reported', async () => {
    const producer = new Producer(1);
    const ports = await producer.listen('127.0.0.1', 1);
    try {
      const stream = await client.createStream({
        producerListeners: [`127.0.0.1:${ports[0]}`],
        numConn: 1
      });
      console.log(`whole-stream set-up: ${stream.setupMs.toFixed(1)} ms`);
      expect(stream.setupMs).toBeGreaterThan(0);
      await client.releaseStream(stream.uid);
    } finally {
      await producer.close();
    }
  });
});
