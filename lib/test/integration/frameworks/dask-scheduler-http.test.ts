import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  readPilotClientCredentials,
  type ClientCredentials
} from '../../../src/frameworks/certificates.js';
import { waitForWorkers } from '../../../src/frameworks/dask/scheduler-http.js';
import { DASK_TLS_FILES, issueDaskCredentials } from '../../../src/frameworks/dask/tls.js';

// A stand-in for the scheduler's HTTP server (mutual TLS with the pilot's files), whose answer
// the test sets: the waiting logic's edge cases without a Dask cluster.
describe("waiting for Dask workers on the scheduler's HTTP server", () => {
  let dir: string;
  let server: Server;
  let address: string;
  let credentials: ClientCredentials;
  let answer: { status: number; body: string } = { status: 200, body: '{"workers": {}}' };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dask-http-'));
    await issueDaskCredentials({ pilotId: 'pilot-test', tlsDir: dir, hosts: ['127.0.0.1'] });
    credentials = await readPilotClientCredentials(dir, path => readFile(path), 'Dask');
    server = createServer(
      {
        ca: credentials.ca,
        cert: await readFile(join(dir, DASK_TLS_FILES.nodeCert)),
        key: await readFile(join(dir, DASK_TLS_FILES.nodeKey)),
        requestCert: true,
        rejectUnauthorized: true
      },
      (request, response) => {
        expect(request.url).toBe('/json/identity.json');
        response.writeHead(answer.status, { 'content-type': 'application/json' });
        response.end(answer.body);
      }
    );
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    address = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise(resolve => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  const wait = (names: string[], timeoutMs: number, signal = new AbortController().signal) =>
    waitForWorkers({ dashboardAddress: address, credentials, names, timeoutMs, signal });

  it('resolves once every named worker is listed', async () => {
    answer = {
      status: 200,
      body: JSON.stringify({
        workers: { 'tls://a:1': { name: 'p-a' }, 'tls://b:2': { name: 'p-b' } }
      })
    };
    await expect(wait(['p-a', 'p-b'], 2000)).resolves.toBeUndefined();
  });

  it('gives up after its time, naming the missing workers and the last answer', async () => {
    answer = { status: 200, body: JSON.stringify({ workers: { 'tls://a:1': { name: 'p-a' } } }) };
    await expect(wait(['p-a', 'p-c'], 500)).rejects.toThrow(
      'Dask workers p-c did not join the scheduler within 1 s'
    );
    answer = { status: 503, body: 'starting' };
    await expect(wait(['p-a'], 500)).rejects.toThrow(/last answer: \S+ answered 503: starting/);
  });

  it('stops when aborted', async () => {
    answer = { status: 200, body: '{"workers": {}}' };
    const aborting = new AbortController();
    const waiting = wait(['p-a'], 60_000, aborting.signal);
    aborting.abort(new Error('the pilot was canceled while it started'));
    await expect(waiting).rejects.toThrow('the pilot was canceled while it started');
  });
});
