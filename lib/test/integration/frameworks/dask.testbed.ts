import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startDashboardProxy } from '../../../src/dashboards/dashboard-proxy.js';
import type { DaskContext } from '../../../src/frameworks/index.js';
import type { Pilot } from '../../../src/pilot/index.js';
import type { DaskDetails } from '../../../src/protocol/index.js';
import {
  processesOnNodes,
  processOnNodes,
  waitForIdleNodes
} from '../../testbed/node-processes.js';
import { openPilotClient, type PilotClient } from '../../testbed/pilot-client.js';
import { getOverSocket } from '../../support/unix-http.js';

const testbed = inject('testbed');

// Dask pilots on nodes of the testbed's SLURM cluster, reached through its login node's sshd:
// the context's bridge runs on the resource, started over the same connection.
describe('Dask pilots over slurm+ssh://', () => {
  let client: PilotClient;
  let pilot: Pilot | undefined;

  beforeAll(async () => {
    expect(await processesOnNodes(testbed)).toEqual([]);
    client = await openPilotClient(testbed, testbed.ssh);
  });

  afterAll(async () => {
    await client?.close(pilot !== undefined ? [pilot] : []);
    await waitForIdleNodes(testbed, 30_000);
  });

  it('runs 1,000 tasks on workers of all three nodes, and shows its dashboard through the proxy', async () => {
    pilot = await client.service.createPilot({
      type: 'dask',
      resource: client.resource,
      numberOfNodes: 3,
      walltimeMinutes: 20
    });
    await pilot.wait('Running', { timeoutMs: 240_000 });
    const details = (await pilot.refresh()).details as DaskDetails;
    const nodes = testbed.slurm.nodes.map(node => node.name);
    expect(new Set(details.workers.map(worker => worker.node)).size).toBe(3);
    for (const worker of details.workers) expect(nodes).toContain(worker.node);

    const context = await pilot.getContext<DaskContext>();
    expect((await context.info()).workers).toHaveLength(3);
    const where = {
      code: 'def where(x):\n    from distributed import get_worker\n    return [x * x, get_worker().name]',
      name: 'where'
    };
    const futures = await context.map(
      where,
      Array.from({ length: 1000 }, (_, i) => i)
    );
    const results = await context.gather<[number, string]>(futures);
    expect(results.reduce((sum, [square]) => sum + square, 0)).toBe(332_833_500);
    const ranOn = new Set(results.map(([, worker]) => worker));
    console.log(`1,000 tasks ran on ${[...ranOn].join(', ')}`);
    expect([...ranOn].every(name => details.workers.some(worker => worker.name === name))).toBe(
      true
    );
    expect(ranOn.size).toBeGreaterThan(1);

    // Its dashboard, on a node of the cluster, through the ssh connection and the proxy.
    expect(details.dashboardAddress).toMatch(/^https:\/\/[^:]+:\d+$/);
    const socketDir = await mkdtemp(join(tmpdir(), 'dashboard-proxy-'));
    const proxy = await startDashboardProxy({
      pilots: client.service,
      socketPath: join(socketDir, 'socket')
    });
    try {
      const counts = await getOverSocket(
        join(socketDir, 'socket'),
        `/${pilot.id}/json/counts.json`
      );
      expect(counts.status).toBe(200);
      expect(JSON.parse(counts.body)).toMatchObject({ workers: 3 });
      const status = await getOverSocket(join(socketDir, 'socket'), `/${pilot.id}/status`);
      expect(status.body).toContain('<title>Dask Diagnostic UI</title>');
    } finally {
      await proxy.close();
      await rm(socketDir, { recursive: true, force: true });
    }
  });

  it('grows by a 2-node child and shrinks back while tasks run, losing none; leaves nothing', async () => {
    const parent = pilot!;
    const context = await parent.getContext<DaskContext>();
    const child = await client.service.createPilot({
      type: 'dask',
      resource: client.resource,
      numberOfNodes: 2,
      walltimeMinutes: 20,
      parent: parent.id
    });
    await child.wait('Running', { timeoutMs: 240_000 });
    const grown = (await parent.refresh()).details as DaskDetails;
    expect(grown.workers).toHaveLength(5);
    expect(grown.workers.filter(worker => worker.pilotId === child.id)).toHaveLength(2);
    expect((await context.info()).workers).toHaveLength(5);

    // Tasks that take a while, so that some run on the child's workers while it leaves.
    const slow = {
      code: 'def slow(x):\n    import time\n    from distributed import get_worker\n    time.sleep(0.02)\n    return [x * x, get_worker().name]',
      name: 'slow'
    };
    const futures = await context.map(
      slow,
      Array.from({ length: 2000 }, (_, i) => i)
    );
    await new Promise(resolve => setTimeout(resolve, 1_000));
    await child.cancel();
    expect(child.state).toBe('Canceled');
    const results = await context.gather<[number, string]>(futures);
    expect(results).toHaveLength(2000);
    expect(results.every(([value], i) => value === i * i)).toBe(true);
    // The child's workers took part before they left; their results were kept.
    const childWorkers = grown.workers.filter(w => w.pilotId === child.id).map(w => w.name);
    expect(results.some(([, worker]) => childWorkers.includes(worker))).toBe(true);
    const shrunk = (await parent.refresh()).details as DaskDetails;
    expect(shrunk.workers.map(worker => worker.pilotId)).toEqual([parent.id, parent.id, parent.id]);
    expect((await context.info()).workers).toHaveLength(3);

    await parent.cancel();
    expect(parent.state).toBe('Canceled');
    await waitForIdleNodes(testbed, 30_000);
  });

  it('turns Failed with the reason within 10 s when a worker on another node is killed', async () => {
    const failing = await client.service.createPilot({
      type: 'dask',
      resource: client.resource,
      numberOfNodes: 2,
      walltimeMinutes: 20
    });
    pilot = failing;
    await failing.wait('Running', { timeoutMs: 240_000 });
    const details = failing.record.details as DaskDetails;
    const remote = details.workers[1]!;
    const worker = await processOnNodes(testbed, 'python', ['worker', '--name', remote.name]);
    expect(worker.node).toBe(remote.node);

    const killedAt = Date.now();
    process.kill(worker.pid, 'SIGKILL');
    await failing.wait('Failed', { timeoutMs: 10_000 }).catch(() => undefined);
    const elapsed = Date.now() - killedAt;
    console.log(`Dask worker on ${remote.node} killed -> ${failing.state} in ${elapsed} ms`);
    expect(failing.state).toBe('Failed');
    expect(elapsed).toBeLessThan(10_000);
    expect(failing.record.reason).toMatch(
      new RegExp(
        `the Dask worker on ${remote.node} \\(pid \\d+\\) exited with code 137 \\(SIGKILL on its node\\)`
      )
    );
    await waitForIdleNodes(testbed, 30_000);
  });
});
