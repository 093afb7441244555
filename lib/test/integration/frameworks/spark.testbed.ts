import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { SparkContext } from '../../../src/frameworks/index.js';
import type { Pilot } from '../../../src/pilot/index.js';
import type { SparkDetails } from '../../../src/protocol/index.js';
import { processesOnNodes, waitForIdleNodes } from '../../testbed/node-processes.js';
import { openPilotClient, type PilotClient } from '../../testbed/pilot-client.js';

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

  it('runs a SQL aggregate over 10^7 rows on executors of all three nodes; cancel leaves nothing', async () => {
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

    await pilot.cancel();
    expect(pilot.state).toBe('Canceled');
    await waitForIdleNodes(testbed, 30_000);
    expect(await processesOnNodes(testbed)).toEqual([]);
  });
});
