import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SCISTREAM_PROTO } from '../../../src/scistream/proto/control-proto.js';
import { LoopbackGateways } from '../../testbed/scistream/loopback-gateways.js';
import { consume, Producer } from '../../testbed/scistream/stream-peers.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../../..');
const python = join(repo, '.venv', 'bin', 'python');
const script = resolve(here, '../../testbed/scistream/original_client.py');
const MiB = 1024 * 1024;

describe('wire compatibility with the original S2UC (Python stubs from scistream.proto)', () => {
  const bed = new LoopbackGateways();
  let stubs = '';
  let token = '';

  async function original(...args: string[]): Promise<Record<string, unknown>> {
    const { stdout } = await run(python, [script, stubs, bed.ca.certFile, ...args], {
      env: { ...process.env, SCISTREAM_TOKEN: token },
      timeout: 120_000
    });
    return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
  }

  beforeAll(async () => {
    if (!existsSync(python)) {
      throw new Error(
        `${python} missing: create the venv and install lib/test/testbed/scistream/requirements.txt`
      );
    }
    await bed.start();
    // The original consumer-side flow names no producer S2CS: the gateway is configured with it.
    await bed.consumer.close();
    bed.consumer = bed.makeServer('consumer-configured', {
      peerControl: `127.0.0.1:${bed.producer.port}`
    });
    await bed.consumer.start();
    stubs = join(bed.dir, 'stubs');
    await mkdir(stubs);
    await writeFile(join(stubs, 'scistream.proto'), SCISTREAM_PROTO);
    await run(python, [
      '-m',
      'grpc_tools.protoc',
      `-I${stubs}`,
      `--python_out=${stubs}`,
      `--grpc_python_out=${stubs}`,
      join(stubs, 'scistream.proto')
    ]);
    token = await bed.issuer.token(bed.issuer.clients.alice);
  });

  afterAll(async () => {
    await bed.stop();
  });

  test('inbound-request, outbound-request, data through the result, release', async () => {
    const producer = new Producer(16 * MiB);
    const ports = await producer.listen('127.0.0.1', 2);
    try {
      const inbound = await original(
        'inbound',
        `127.0.0.1:${bed.producer.port}`,
        '2',
        ...ports.map(port => `127.0.0.1:${port}`)
      );
      const uid = inbound.uid as string;
      expect(uid).toMatch(/^[0-9a-f-]{36}$/);
      expect(inbound.prod_listeners).toEqual(ports.map(port => `127.0.0.1:${port}`));
      const outbound = await original(
        'outbound',
        `127.0.0.1:${bed.consumer.port}`,
        '2',
        uid,
        ...(inbound.listeners as string[])
      );
      const listeners = outbound.listeners as string[];
      expect(listeners).toHaveLength(2);
      const received = await Promise.all(
        listeners.map(listener => consume('127.0.0.1', Number(listener.split(':')[1])))
      );
      for (const [index, port] of ports.entries()) {
        expect(received[index]).toEqual({
          bytes: 16 * MiB,
          sha256: producer.sent.get(port)![0].sha256
        });
      }
      await original('release', `127.0.0.1:${bed.consumer.port}`, uid);
      await original('release', `127.0.0.1:${bed.producer.port}`, uid);
      expect(bed.producer.sessionCount + bed.consumer.sessionCount).toBe(0);
      expect(bed.producer.portsInUse + bed.consumer.portsInUse).toBe(0);
    } finally {
      await producer.close();
    }
  });

  test('the original client without a token is refused', async () => {
    token = '';
    await expect(original('release', `127.0.0.1:${bed.producer.port}`, 'x')).rejects.toThrow(
      /UNAUTHENTICATED|empty bearer token|missing/
    );
  });
});
