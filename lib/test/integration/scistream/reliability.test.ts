import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Gateway } from '../../../src/scistream/s2uc/gateway.js';
import { ScistreamClient } from '../../../src/scistream/s2uc/scistream-client.js';
import { LoopbackGateways, randomPortRange } from '../../testbed/scistream/loopback-gateways.js';
import { AUDIENCE } from '../../testbed/scistream/oidc-issuer.js';
import { bundleCli, s2csArgs, S2csProcess } from '../../testbed/scistream/s2cs-process.js';
import { consume, Producer } from '../../testbed/scistream/stream-peers.js';

const MiB = 1024 * 1024;

async function openDescriptors(): Promise<number> {
  return (await readdir('/proc/self/fd')).length;
}

function childPids(): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(process.pid)], { encoding: 'utf8' })
      .split('\n')
      .map(line => Number(line.trim()))
      .filter(pid => pid > 0);
  } catch (error) {
    // ps exits 1 when there are no children.
    if ((error as { status?: number }).status === 1) return [];
    throw error;
  }
}

async function canBind(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A live process; a zombie (exited, not yet reaped by its new parent) counts as gone. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

function portOf(listener: string): number {
  return Number(listener.split(':')[1]);
}

describe('reliability', () => {
  const bed = new LoopbackGateways();
  let client: ScistreamClient;
  const gateways: Gateway[] = [];

  beforeAll(async () => {
    await bed.start();
    const token = await bed.issuer.token(bed.issuer.clients.alice);
    gateways.push(await bed.gateway(bed.producer, token), await bed.gateway(bed.consumer, token));
    client = new ScistreamClient({ producer: gateways[0], consumer: gateways[1] });
  });

  afterAll(async () => {
    for (const gateway of gateways) gateway.close();
    await bed.stop();
  });

  test('1,000 whole-stream request/release cycles leave no port, process or descriptor behind', async () => {
    const producer = new Producer(1024);
    const [port] = await producer.listen('127.0.0.1', 1);
    const usedPorts = new Set<number>();
    const cycle = async (backend: string) => {
      const stream = await client.createStream({
        producerListeners: [`127.0.0.1:${port}`],
        numConn: 2,
        backend
      });
      for (const listener of [...stream.consumerListeners, ...stream.producerGatewayListeners]) {
        usedPorts.add(portOf(listener));
      }
      const received = await consume('127.0.0.1', portOf(stream.consumerListeners[0]));
      expect(received.bytes).toBe(1024);
      await client.releaseStream(stream.uid);
    };
    try {
      // Warm up (gRPC channels, TLS contexts), then measure.
      for (let i = 0; i < 5; i++) await cycle('native');
      const descriptors = await openDescriptors();
      const children = childPids().length;
      const started = Date.now();
      for (let i = 0; i < 980; i++) await cycle('native');
      // Subprocess backends too: each cycle starts and stops two stunnel processes.
      for (let i = 0; i < 20; i++) await cycle('stunnel');
      console.log(`1,000 cycles in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      expect(bed.producer.sessionCount + bed.consumer.sessionCount).toBe(0);
      expect(bed.producer.portsInUse + bed.consumer.portsInUse).toBe(0);
      expect(childPids().length).toBe(children);
      // Sockets close asynchronously: allow the event loop a moment, then compare.
      await new Promise(resolve => setTimeout(resolve, 500));
      expect(await openDescriptors()).toBeLessThanOrEqual(descriptors + 2);
      const stillBound: number[] = [];
      for (const used of usedPorts) if (!(await canBind(used))) stillBound.push(used);
      expect(stillBound).toEqual([]);
      expect(await readdir(join(bed.dir, 'producer', 'sessions'))).toEqual([]);
      expect(await readdir(join(bed.dir, 'consumer', 'run'))).toEqual([]);
    } finally {
      await producer.close();
    }
  });

  test('20 concurrent sessions stream without cross-talk', async () => {
    const producers = Array.from({ length: 20 }, () => new Producer(4 * MiB));
    try {
      const ports = await Promise.all(producers.map(p => p.listen('127.0.0.1', 1)));
      const streams = await Promise.all(
        ports.map(([port]) =>
          client.createStream({ producerListeners: [`127.0.0.1:${port}`], numConn: 1 })
        )
      );
      expect(new Set(streams.map(s => s.uid)).size).toBe(20);
      const received = await Promise.all(
        streams.map(s => consume('127.0.0.1', portOf(s.consumerListeners[0]), 1000))
      );
      for (const [index, producer] of producers.entries()) {
        const sent = producer.sent.get(ports[index][0])!;
        expect(sent).toHaveLength(1);
        expect(received[index]).toEqual({ bytes: 4 * MiB, sha256: sent[0].sha256 });
        expect(sent[0].received).toBe(1000);
      }
      await Promise.all(streams.map(s => client.releaseStream(s.uid)));
      expect(bed.producer.portsInUse + bed.consumer.portsInUse).toBe(0);
    } finally {
      await Promise.all(producers.map(p => p.close()));
    }
  });

  for (const backend of ['native', 'stunnel']) {
    test(`${backend}: an S2CS killed and restarted keeps its sessions; SIGTERM releases them all`, async () => {
      const cli = await bundleCli(bed.dir);
      const portRange = randomPortRange(50);
      const stateDir = join(bed.dir, `process-gateway-${backend}`);
      const args = s2csArgs({ certificate: bed.server, port: 0, portRange, stateDir }, [
        '--issuer',
        bed.issuer.issuer,
        '--audience',
        AUDIENCE,
        '--scope',
        'scistream'
      ]);
      let gateway = new S2csProcess(cli, args);
      const port = await gateway.start();
      const token = await bed.issuer.token(bed.issuer.clients.alice);
      const caCert = await readFile(bed.ca.certFile);
      const remote = new Gateway({ address: `127.0.0.1:${port}`, caCert, token });
      const restartClient = new ScistreamClient({ producer: remote, consumer: gateways[1] });
      const producer = new Producer(2 * MiB);
      const [producerPort] = await producer.listen('127.0.0.1', 1);
      try {
        const stream = await restartClient.createStream({
          producerListeners: [`127.0.0.1:${producerPort}`],
          numConn: 2,
          backend
        });
        const recordFile = join(stateDir, 'sessions', `${stream.uid}.json`);
        const proxyPids = (JSON.parse(await readFile(recordFile, 'utf8')) as { pids: number[] })
          .pids;
        expect(proxyPids).toHaveLength(backend === 'stunnel' ? 1 : 0);
        const listener = portOf(stream.consumerListeners[0]);
        expect((await consume('127.0.0.1', listener)).bytes).toBe(2 * MiB);

        expect(await gateway.stop('SIGKILL')).toBe('SIGKILL');
        if (backend === 'native') {
          // Killed without warning: the in-process data plane dies with it (the consumer gateway
          // accepts, finds no producer gateway, and closes).
          expect((await consume('127.0.0.1', listener)).bytes).toBe(0);
        } else {
          // stunnel outlives the killed control server and keeps carrying the stream.
          expect(alive(proxyPids[0])).toBe(true);
          expect((await consume('127.0.0.1', listener)).bytes).toBe(2 * MiB);
        }
        expect(await readdir(join(stateDir, 'sessions'))).toHaveLength(1);

        // Restarted on the same port and state: the session is back on the same ports and key.
        gateway = new S2csProcess(
          cli,
          args.map(arg => (arg === '0' ? String(port) : arg))
        );
        await gateway.start();
        expect(gateway.stderr).toMatch(
          new RegExp(`session ${stream.uid}: restored \\(streaming\\)`)
        );
        const status = await remote.status(stream.uid);
        expect(status.state).toBe('streaming');
        expect(status.listeners).toEqual(stream.producerGatewayListeners);
        // The orphaned proxy was stopped and replaced by one the new process owns.
        for (const pid of proxyPids) expect(alive(pid)).toBe(false);
        const again = await consume('127.0.0.1', listener);
        const sent = producer.sent.get(producerPort)!;
        expect(again).toEqual({ bytes: 2 * MiB, sha256: sent[sent.length - 1].sha256 });

        // SIGTERM: every session released, ports free, records gone, clean exit.
        remote.close();
        expect(await gateway.stop('SIGTERM')).toBe(0);
        expect(await readdir(join(stateDir, 'sessions'))).toEqual([]);
        for (const gatewayListener of stream.producerGatewayListeners) {
          expect(await canBind(portOf(gatewayListener))).toBe(true);
        }
        await gateways[1].release(stream.uid);
      } finally {
        remote.close();
        // SIGTERM: a gateway left running by a failed check releases (and stops) its proxies.
        await gateway.stop('SIGTERM');
        await producer.close();
      }
    });
  }
});
