import { execFile } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DaskPythonError, kafkaSource, type DaskContext } from '../../../src/frameworks/index.js';
import { ensureDaskEnvironment } from '../../../src/frameworks/dask/distribution.js';
import { DASK_TLS_DIR } from '../../../src/frameworks/dask/tls.js';
import type { DaskDetails } from '../../../src/protocol/index.js';
import { foreignCredentials, tryTls } from '../../support/kafka-access.js';
import { smallKafkaPilot } from '../../support/small-kafka.js';
import { until } from '../../support/until.js';
import {
  tcpListenersOf,
  listeningSockets,
  processesMentioning,
  usePilotTestHome,
  withDescendants
} from '../../support/pilot-home.js';

const run = promisify(execFile);

async function commandLines(pids: number[]): Promise<string[]> {
  return Promise.all(
    pids.map(async pid =>
      (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '(ended)')).replace(/\0/g, ' ')
    )
  );
}

/** host and port of "tls://host:port". */
function endpoint(address: string): { host: string; port: number } {
  const url = new URL(address.replace(/^tls:/, 'https:'));
  return { host: url.hostname, port: Number(url.port) };
}

describe('a Dask pilot on fork://localhost', () => {
  const test = usePilotTestHome('test');

  it('runs 1,000 tasks through its context, takes only clients with its certificate, and leaves nothing', async () => {
    const listenersBefore = await listeningSockets();
    const pilot = await test.service.createPilot({
      type: 'dask',
      resource: 'fork://localhost',
      name: 'dask',
      walltimeMinutes: 20,
      configuration: { 'distributed.scheduler.allowed-failures': 7 }
    });
    await pilot.wait('Running', { timeoutMs: 170_000 });
    const record = await pilot.refresh();
    const details = record.details as DaskDetails;
    expect(details).toMatchObject({
      type: 'dask',
      schedulerAddress: expect.stringMatching(/^tls:\/\/127\.0\.0\.1:\d+$/),
      security: 'tls',
      workers: [{ name: expect.stringContaining(pilot.id), pilotId: pilot.id }]
    });

    // Secrets: 0600 files in a 0700 directory of the work dir, and never in the record.
    const tlsDir = join(record.workDir!, DASK_TLS_DIR);
    expect((await stat(tlsDir)).mode & 0o777).toBe(0o700);
    for (const file of await readdir(tlsDir)) {
      expect({ file, mode: (await stat(join(tlsDir, file))).mode & 0o777 }).toEqual({
        file,
        mode: 0o600
      });
    }
    const own = {
      ca: await readFile(join(tlsDir, 'ca.pem'), 'utf8'),
      cert: await readFile(join(tlsDir, 'client.pem'), 'utf8'),
      key: await readFile(join(tlsDir, 'client-key.pem'), 'utf8')
    };
    expect(JSON.stringify(record)).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);

    const context = await pilot.getContext<DaskContext>();
    const info = await context.info();
    expect(info.workers.map(worker => worker.name)).toEqual([details.workers[0]!.name]);

    // The scheduler and every worker take TLS with the pilot's certificate only.
    const foreign = await foreignCredentials();
    for (const address of [details.schedulerAddress, ...info.workers.map(w => w.address)]) {
      expect(address).toMatch(/^tls:\/\//);
      const { host, port } = endpoint(address);
      expect(await tryTls(host, port, { ca: [own.ca], cert: own.cert, key: own.key })).toBe(
        'accepted'
      );
      expect(await tryTls(host, port, { ca: [own.ca] })).toEqual({ refused: expect.any(String) });
      expect(
        await tryTls(host, port, { ca: [own.ca], cert: foreign.cert, key: foreign.key })
      ).toEqual({ refused: expect.any(String) });
    }
    // Every socket the scheduler, workers and nannies listen on (their comms, and the HTTP
    // servers of the dashboard, health and metrics) is on the node's address and mutual TLS.
    // (The pilot's agent, which runs compute units, has endpoints and an authority of its own.)
    const listeners = await tcpListenersOf(
      await withDescendants(await processesMentioning(tlsDir))
    );
    // scheduler + dashboard, worker comm + HTTP, nanny comm (the worker runs under a nanny).
    expect(listeners.length).toBeGreaterThanOrEqual(5);
    for (const { host, port } of listeners) {
      expect({ host, port }).toEqual({ host: '127.0.0.1', port });
      expect({ port, own: await tryTls(host, port, { ca: [own.ca], ...own }) }).toEqual({
        port,
        own: 'accepted'
      });
      expect({ port, none: await tryTls(host, port, { ca: [own.ca] }) }).toEqual({
        port,
        none: { refused: expect.any(String) }
      });
    }
    // A Dask client without the pilot's certificate gets nowhere, over TCP or TLS.
    const { python } = await ensureDaskEnvironment({
      cacheDir: test.cacheDir,
      onProgress: () => undefined
    });
    const { port } = endpoint(details.schedulerAddress);
    for (const address of [`tcp://127.0.0.1:${port}`, details.schedulerAddress]) {
      await expect(
        run(
          python,
          ['-c', `from distributed import Client; Client(${JSON.stringify(address)}, timeout=5)`],
          {
            timeout: 60_000
          }
        )
      ).rejects.toThrow();
    }

    // 1,000 tasks from Python source, their results gathered as JSON.
    const square = { code: 'def square(x):\n    return x * x', name: 'square' };
    const items = Array.from({ length: 1000 }, (_, i) => i);
    const futures = await context.map(square, items);
    expect(futures).toHaveLength(1000);
    const results = await context.gather<number>(futures);
    expect(results.reduce((sum, value) => sum + value, 0)).toBe(332_833_500);
    await context.release(futures);
    // An importable function by name, and a task's Python error with its traceback.
    const [total] = await context.gather<number>([await context.submit('builtins:sum', [1, 2, 3])]);
    expect(total).toBe(6);
    // The pilot's configuration reached Dask (given as DASK_* variables to every node).
    const [allowedFailures] = await context.gather<number>([
      await context.submit('dask.config:get', 'distributed.scheduler.allowed-failures')
    ]);
    expect(allowedFailures).toBe(7);
    const failing = await context.submit(
      { code: 'def invert(x):\n    return 1 / x', name: 'invert' },
      0
    );
    const error = await context.gather([failing]).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DaskPythonError);
    expect(error).toMatchObject({
      pythonType: 'ZeroDivisionError',
      traceback: expect.stringContaining('return 1 / x')
    });

    await pilot.cancel();
    expect(pilot.state).toBe('Canceled');
    for (const text of [record.workDir!, 'dask_bridge.py']) {
      expect(await commandLines(await processesMentioning(text))).toEqual([]);
    }
    const newListeners = (await listeningSockets()).filter(
      socket => !listenersBefore.includes(socket)
    );
    expect(newListeners).toEqual([]);
  });

  it("consumes a Kafka pilot's topic in its bridge, every message counted once", async () => {
    const [kafkaPilot, daskPilot] = await Promise.all([
      test.service.createPilot({ ...smallKafkaPilot, name: 'source' }),
      test.service.createPilot({ type: 'dask', resource: 'fork://localhost', walltimeMinutes: 20 })
    ]);
    await Promise.all([
      kafkaPilot.wait('Running', { timeoutMs: 170_000 }),
      daskPilot.wait('Running', { timeoutMs: 170_000 })
    ]);
    const count = 5_000;
    const kafka = await kafkaPilot.getContext();
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'numbers', numPartitions: 3 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    for (let start = 0; start < count; start += 500) {
      await producer.send({
        topic: 'numbers',
        messages: Array.from({ length: 500 }, (_, i) => ({ value: String(start + i) }))
      });
    }
    await producer.disconnect();

    const dask = await daskPilot.getContext<DaskContext>();
    const consumed = await dask.consumeKafka<[number, number]>({
      source: kafkaSource(await kafkaPilot.refresh()),
      topic: 'numbers',
      fn: {
        code: 'def tally(values):\n    return [len(values), sum(int(v) for v in values)]',
        name: 'tally'
      },
      batchSize: 400,
      maxMessages: count
    });
    expect(consumed.messages).toBe(count);
    expect(consumed.batches).toBe(Math.ceil(count / 400));
    const tallied = consumed.results.reduce(
      ([messages, total], [n, sum]) => [messages + n, total + sum],
      [0, 0]
    );
    expect(tallied).toEqual([count, (count * (count - 1)) / 2]);
    await Promise.all([kafkaPilot.cancel(), daskPilot.cancel()]);
  });

  it('turns Failed with the reason within 10 s when a worker is killed, and leaves nothing', async () => {
    const pilot = await test.service.createPilot({
      type: 'dask',
      resource: 'fork://localhost',
      walltimeMinutes: 20
    });
    await pilot.wait('Running', { timeoutMs: 170_000 });
    const workDir = pilot.record.workDir!;
    const pids = await processesMentioning(workDir);
    const lines = await commandLines(pids);
    const worker = pids[lines.findIndex(line => / -m dask worker /.test(line))];
    expect(worker).toBeDefined();

    const killedAt = Date.now();
    process.kill(worker!, 'SIGKILL');
    const reader = await test.newService().getPilot(pilot.id);
    expect(await until(async () => (await reader.refresh()).state === 'Failed', 10_000)).toBe(true);
    const elapsed = Date.now() - killedAt;
    console.log(`Dask worker killed -> Failed in ${elapsed} ms`);
    expect(elapsed).toBeLessThan(10_000);
    expect(reader.record.reason).toMatch(
      /the Dask worker on \S+ \(pid \d+\) was killed by signal SIGKILL/
    );
    expect(await until(async () => (await processesMentioning(workDir)).length === 0, 10_000)).toBe(
      true
    );
  });

  it('refuses configuration that would undo its security, naming the key', async () => {
    await expect(
      test.service.createPilot({
        type: 'dask',
        resource: 'fork://localhost',
        configuration: { 'distributed.comm.require-encryption': false }
      })
    ).rejects.toThrow(/configuration\.distributed\.comm\.require-encryption/);
    expect(await test.service.listPilots()).toEqual([]);
  });
});
