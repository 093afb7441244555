import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SparkContext } from '../../../src/frameworks/index.js';
import type { Pilot } from '../../../src/pilot/index.js';
import type { SparkDetails } from '../../../src/protocol/index.js';
import { processesOnNodes, waitForIdleNodes } from '../../testbed/node-processes.js';
import { openPilotClient, type PilotClient } from '../../testbed/pilot-client.js';
import { until } from '../../support/until.js';

const testbed = inject('testbed');

// A Spark pilot on three nodes of the testbed's SLURM cluster, reached through its login
// node's sshd: the staged jars, a worker per node, Spark Connect through the ssh connection.
describe('Spark pilots over slurm+ssh://', () => {
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

  it('runs a SQL aggregate over 10^7 rows on executors of all three nodes', async () => {
    pilot = await client.service.createPilot({
      type: 'spark',
      resource: client.resource,
      numberOfNodes: 3,
      walltimeMinutes: 20
    });
    await pilot.wait('Running', { timeoutMs: 300_000 });
    const details = (await pilot.refresh()).details as SparkDetails;
    const nodes = testbed.slurm.nodes.map(node => node.name);
    expect(new Set(details.workers.map(worker => worker.node)).size).toBe(3);
    for (const worker of details.workers) expect(nodes).toContain(worker.node);

    const context = await pilot.getContext<SparkContext>();
    const { rows } = await context.sql(
      'SELECT count(*) AS n, sum(id) AS total FROM range(0, 10000000, 1, 12)'
    );
    expect(rows).toEqual([{ n: 10_000_000n, total: 49_999_995_000_000n }]);
    // The partitions ran on executors of more than one node.
    const hosts = await context.sql(
      "SELECT count(DISTINCT h) AS hosts FROM (SELECT reflect('java.net.InetAddress', 'getLocalHost') AS h FROM range(0, 1200, 1, 12))"
    );
    console.log(`range partitions ran on ${String(hosts.rows[0]!.hosts)} host(s)`);
    expect(Number(hosts.rows[0]!.hosts)).toBeGreaterThan(1);
  });

  it('grows by a 2-node child and shrinks back during a shuffle, exact; cancel leaves nothing', async () => {
    const parent = pilot!;
    const context = await parent.getContext<SparkContext>();
    const child = await client.service.createPilot({
      type: 'spark',
      resource: client.resource,
      numberOfNodes: 2,
      walltimeMinutes: 20,
      parent: parent.id
    });
    await child.wait('Running', { timeoutMs: 300_000 });
    const grown = (await parent.refresh()).details as SparkDetails;
    expect(grown.workers).toHaveLength(5);
    expect(grown.workers.filter(worker => worker.pilotId === child.id)).toHaveLength(2);
    // The master lists five workers, and the application takes executors on all of them.
    const allServe = async (): Promise<boolean> => {
      const alive = (await context.workers()).filter(worker => worker.state === 'ALIVE');
      return alive.length === 5 && alive.every(worker => worker.coresUsed > 0);
    };
    expect(await until(allServe, 90_000)).toBe(true);

    const rows = 100_000_000;
    const query = context.sql(
      `SELECT count(*) AS groups, sum(n) AS n, sum(total) AS total FROM ` +
        `(SELECT id % 1000 AS k, count(*) AS n, sum(id) AS total FROM range(0, ${rows}, 1, 40) GROUP BY k)`
    );
    await new Promise(resolve => setTimeout(resolve, 3_000));
    const shrinking = Date.now();
    await child.cancel();
    console.log(`child cancelled (workers decommissioned) in ${Date.now() - shrinking} ms`);
    expect(child.state).toBe('Canceled');
    // Its workers left gracefully: decommissioned, then stopped once no executor was left.
    const log = await readFile(join(child.record.workDir!, 'supervisor.log'), 'utf8');
    expect(log).toMatch(/decommissioning Spark workers [\d.]+:\d+, [\d.]+:\d+/);
    expect(log).toMatch(/Spark workers .* have no executors left after \d+ ms/);
    expect(log).not.toMatch(/cannot retire Spark workers/);
    expect((await query).rows).toEqual([
      { groups: 1000n, n: BigInt(rows), total: (BigInt(rows) * BigInt(rows - 1)) / 2n }
    ]);
    const shrunk = (await parent.refresh()).details as SparkDetails;
    expect(shrunk.workers.map(worker => worker.pilotId)).toEqual([parent.id, parent.id, parent.id]);
    expect((await context.workers()).filter(worker => worker.state === 'ALIVE')).toHaveLength(3);

    await parent.cancel();
    expect(parent.state).toBe('Canceled');
    await waitForIdleNodes(testbed, 30_000);
    expect(await processesOnNodes(testbed)).toEqual([]);
  }, 600_000);
});
