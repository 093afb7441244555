import { execFile } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LoopbackGateways } from '../../testbed/scistream/loopback-gateways.js';
import { randomPortRange } from '../../testbed/scistream/loopback-gateways.js';
import {
  binNodeArgs,
  bundleBin,
  bundleCli,
  s2csArgs,
  S2csProcess
} from '../../testbed/scistream/s2cs-process.js';
import { consume, Producer } from '../../testbed/scistream/stream-peers.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;

describe('s2uc commands (processes) against two gateways', () => {
  const bed = new LoopbackGateways();
  let cli = '';
  let tokenFile = '';
  const alice = () => bed.issuer.clients.alice;

  async function s2uc(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
    const { stdout } = await run(
      process.execPath,
      [cli, 's2uc', ...args, '--server-cert', bed.ca.certFile],
      { env: { ...process.env, ...env }, timeout: 60_000 }
    );
    return stdout;
  }

  beforeAll(async () => {
    await bed.start();
    cli = await bundleCli(bed.dir);
    tokenFile = join(bed.dir, 'token');
    await writeFile(tokenFile, await bed.issuer.token(alice()), { mode: 0o600 });
  });

  afterAll(async () => {
    await bed.stop();
  });

  test('inbound-request, outbound-request UID PROD_LSTN, status, release', async () => {
    const producer = new Producer(8 * MiB);
    const ports = await producer.listen('127.0.0.1', 2);
    const prodS2cs = `127.0.0.1:${bed.producer.port}`;
    const consS2cs = `127.0.0.1:${bed.consumer.port}`;
    try {
      const inbound = await s2uc([
        'inbound-request',
        '--s2cs',
        prodS2cs,
        '--remote-ip',
        '127.0.0.1',
        '--receiver-ports',
        ports.join(','),
        '--num-conn',
        '2',
        '--token-file',
        tokenFile
      ]);
      const uid = /^uid (\S+)$/m.exec(inbound)![1];
      const prodListeners = /^listeners (\S+)$/m.exec(inbound)![1];
      expect(prodListeners.split(',')).toHaveLength(2);
      // The token may also come from the environment.
      const token = await readFile(tokenFile, 'utf8');
      const outbound = await s2uc(
        [
          'outbound-request',
          uid,
          prodListeners,
          '--s2cs',
          consS2cs,
          '--producer-s2cs',
          prodS2cs,
          '--num-conn',
          '2'
        ],
        { SCISTREAM_TOKEN: token }
      );
      const listeners = /^listeners (\S+)$/m.exec(outbound)![1].split(',');
      const received = await Promise.all(
        listeners.map(listener => consume('127.0.0.1', Number(listener.split(':')[1])))
      );
      for (const [index, port] of ports.entries()) {
        expect(received[index]).toEqual({
          bytes: 8 * MiB,
          sha256: producer.sent.get(port)![0].sha256
        });
      }
      const status = JSON.parse(
        await s2uc(['status', uid, '--s2cs', consS2cs, '--token-file', tokenFile])
      ) as {
        status: { state: string; backend: string };
        metrics: { bytes_out: number };
      };
      expect(status.status).toMatchObject({ state: 'streaming', backend: 'native' });
      expect(status.metrics.bytes_out).toBe(16 * MiB);
      const list = JSON.parse(
        await s2uc(['status', '--s2cs', prodS2cs, '--token-file', tokenFile])
      ) as unknown[];
      expect(list).toHaveLength(1);
      const released = await s2uc([
        'release',
        uid,
        '--s2cs',
        `${consS2cs},${prodS2cs}`,
        '--token-file',
        tokenFile
      ]);
      expect(released).toContain(`released ${uid} on ${prodS2cs}`);
      expect(bed.producer.sessionCount + bed.consumer.sessionCount).toBe(0);
      // No output ever contains the token.
      for (const out of [inbound, outbound, released]) expect(out).not.toContain(token.slice(-16));
    } finally {
      await producer.close();
    }
  });

  test('the s2cs and s2uc executables take the original spellings and carry a stream', async () => {
    const [s2csBin, s2ucBin] = [await bundleBin(bed.dir, 's2cs'), await bundleBin(bed.dir, 's2uc')];
    const nodeArgs = await binNodeArgs('s2cs');
    const bob = bed.issuer.clients.bob;
    const secretFile = join(bed.dir, 'introspection-secret');
    await writeFile(secretFile, bob.secret, { mode: 0o600 });
    // Opaque tokens checked by introspection, with the original's client id and secret flags.
    const gatewayArgs = (name: string) => {
      const range = randomPortRange(20);
      return [
        '--listener_ip=127.0.0.1',
        '--bind',
        '127.0.0.1',
        '--port',
        '0',
        '--port_range',
        `${range.low}-${range.high}`,
        '--server_crt',
        bed.server.certFile,
        '--server_key',
        bed.server.keyFile,
        '--state-dir',
        join(bed.dir, `bin-${name}`),
        '--introspection-url',
        `${bed.issuer.issuer}/token/introspection`,
        '--client_id',
        bob.id,
        '--client_secret',
        secretFile
      ];
    };
    // A secret pasted on the command line is refused, and not echoed.
    const pasted = await run(
      process.execPath,
      [...nodeArgs, s2csBin, ...gatewayArgs('x'), '--client_secret', bob.secret],
      {
        timeout: 30_000
      }
    ).then(
      () => 'started',
      (error: { stderr: string }) => error.stderr
    );
    expect(pasted).toMatch(/--client-secret: the value given \(not shown\) is not a readable file/);
    expect(pasted).not.toContain(bob.secret);

    const producerGateway = new S2csProcess(
      s2csBin,
      gatewayArgs('producer'),
      undefined,
      {},
      [],
      nodeArgs
    );
    let consumerGateway: S2csProcess | undefined;
    const producer = new Producer(8 * MiB);
    try {
      const prodPort = await producerGateway.start();
      // The original outbound-request cannot name the producer's S2CS: the gateway knows it.
      consumerGateway = new S2csProcess(
        s2csBin,
        [
          ...gatewayArgs('consumer'),
          '--peer-control',
          `127.0.0.1:${prodPort}`,
          '--peer-ca',
          bed.ca.certFile
        ],
        undefined,
        {},
        [],
        nodeArgs
      );
      const consPort = await consumerGateway.start();
      const token = await bed.issuer.token(alice(), { opaque: true });
      const s2ucBinRun = async (args: string[]) =>
        (
          await run(process.execPath, [s2ucBin, ...args, '--server_cert', bed.ca.certFile], {
            env: { ...process.env, SCISTREAM_TOKEN: token },
            timeout: 60_000
          })
        ).stdout;
      const ports = await producer.listen('127.0.0.1', 2);
      const inbound = await s2ucBinRun([
        'inbound-request',
        '--s2cs',
        `127.0.0.1:${prodPort}`,
        '--remote_ip',
        '127.0.0.1',
        '--receiver_ports',
        ports.join(','),
        '--num_conn',
        '2',
        '--rate',
        '0'
      ]);
      const uid = /^uid (\S+)$/m.exec(inbound)![1];
      const prodListeners = /^listeners (\S+)$/m.exec(inbound)![1];
      const outbound = await s2ucBinRun([
        'outbound-request',
        '--s2cs',
        `127.0.0.1:${consPort}`,
        '--num_conn=2',
        uid,
        prodListeners
      ]);
      const listeners = /^listeners (\S+)$/m.exec(outbound)![1].split(',');
      expect(listeners).toHaveLength(2);
      const received = await Promise.all(
        listeners.map(listener => consume('127.0.0.1', Number(listener.split(':')[1])))
      );
      for (const [index, port] of ports.entries()) {
        expect(received[index]).toEqual({
          bytes: 8 * MiB,
          sha256: producer.sent.get(port)![0].sha256
        });
      }
      // The original releases per gateway.
      for (const port of [consPort, prodPort]) {
        expect(await s2ucBinRun(['release', uid, '--s2cs', `127.0.0.1:${port}`])).toContain(
          `released ${uid}`
        );
      }
      expect(await readdir(join(bed.dir, 'bin-producer', 'sessions'))).toEqual([]);
      for (const out of [inbound, outbound]) expect(out).not.toContain(token.slice(-16));
      // An underscore spelling that is no option of the command stays an unknown option.
      await expect(
        s2ucBinRun(['release', uid, '--s2cs', `127.0.0.1:${prodPort}`, '--listener_ip', 'x'])
      ).rejects.toThrow(/unknown option '--listener_ip'/);
    } finally {
      await producer.close();
      expect(await consumerGateway?.stop('SIGTERM')).toBe(0);
      expect(await producerGateway.stop('SIGTERM')).toBe(0);
    }
    expect(producerGateway.stderr + (consumerGateway?.stderr ?? '')).not.toContain(bob.secret);
  });

  test('a typo in the backend name fails loudly before anything is reserved', async () => {
    await expect(
      s2uc([
        'inbound-request',
        '--s2cs',
        `127.0.0.1:${bed.producer.port}`,
        '--remote-ip',
        '127.0.0.1',
        '--receiver-ports',
        '9',
        '--type',
        'hapoxy',
        '--token-file',
        tokenFile
      ])
    ).rejects.toThrow(/Unknown S2DS backend "hapoxy": expected one of native, stunnel, haproxy/);
    expect(bed.producer.sessionCount).toBe(0);
  });

  test('s2cs refuses to start without auth settings unless auth is explicitly disabled', async () => {
    const base = [
      's2cs',
      ...s2csArgs({ certificate: bed.server, port: 0, stateDir: join(bed.dir, 'cli-state') })
    ];
    await expect(run(process.execPath, [cli, ...base], { timeout: 30_000 })).rejects.toThrow(
      /give --issuer .* or --introspection-url .*--insecure-no-auth turns auth off/
    );
    const open = new S2csProcess(cli, [...base.slice(1), '--insecure-no-auth']);
    await open.start();
    expect(open.stderr).toMatch(/WARNING: S2CS auth is disabled/);
    expect(await open.stop('SIGTERM')).toBe(0);
  });

  test('s2cs with an issuer requires the audience its tokens name, unless any is chosen', async () => {
    const base = [
      's2cs',
      ...s2csArgs(
        { certificate: bed.server, port: 0, stateDir: join(bed.dir, 'cli-audience-state') },
        ['--issuer', bed.issuer.issuer]
      )
    ];
    await expect(run(process.execPath, [cli, ...base], { timeout: 30_000 })).rejects.toThrow(
      /--issuer \S+ needs --audience <aud>.*--any-audience accepts tokens for any audience/
    );
    const anyAudience = new S2csProcess(cli, [...base.slice(1), '--any-audience']);
    await anyAudience.start();
    expect(anyAudience.stderr).toMatch(/WARNING: --any-audience: tokens of \S+ for any service/);
    expect(await anyAudience.stop('SIGTERM')).toBe(0);
  });
});
