import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FlinkContext } from '../../../src/frameworks/index.js';
import type { Pilot } from '../../../src/pilot/index.js';
import type { FlinkDetails } from '../../../src/protocol/index.js';
import { run } from '../../testbed/command.js';
import { processesOnNodes, waitForIdleNodes } from '../../testbed/node-processes.js';
import { openPilotClient, type PilotClient } from '../../testbed/pilot-client.js';
import { until } from '../../support/until.js';
import {
  countWindows,
  expectedWindows,
  produceWindowedReadings
} from '../../support/windowed-readings.js';

const testbed = inject('testbed');

// A Flink pilot on three nodes of the testbed's SLURM cluster, reached through its login node's
// sshd, reading a Kafka pilot of the same cluster: the staged distribution, a TaskManager per
// node, the SQL Gateway and the JobManager through the ssh connection.
describe('Flink pilots over slurm+ssh://', () => {
  let client: PilotClient;
  const pilots: Pilot[] = [];

  beforeAll(async () => {
    expect(await processesOnNodes(testbed)).toEqual([]);
    client = await openPilotClient(testbed, testbed.ssh);
  });

  afterAll(async () => {
    await client?.close(pilots);
    await waitForIdleNodes(testbed, 30_000);
  });

  it("counts a Kafka pilot's topic in windows on TaskManagers of three nodes, exact", async () => {
    const [kafkaPilot, pilot] = await Promise.all([
      client.service.createPilot({
        type: 'kafka',
        resource: client.resource,
        walltimeMinutes: 20,
        configuration: { 'pilot.heap': '256m' }
      }),
      client.service.createPilot({
        type: 'flink',
        resource: client.resource,
        numberOfNodes: 3,
        walltimeMinutes: 20,
        configuration: { 'table.exec.resource.default-parallelism': 3 }
      })
    ]);
    pilots.push(kafkaPilot, pilot);
    await Promise.all([
      kafkaPilot.wait('Running', { timeoutMs: 300_000 }),
      pilot.wait('Running', { timeoutMs: 300_000 })
    ]);
    const details = (await pilot.refresh()).details as FlinkDetails;
    const nodes = testbed.slurm.nodes.map(node => node.name);
    expect(new Set(details.taskManagers.map(each => each.node)).size).toBe(3);
    for (const each of details.taskManagers) expect(nodes).toContain(each.node);

    const context = await pilot.getContext<FlinkContext>();
    expect((await context.taskManagers()).length).toBe(3);
    const values = await context.sql(
      'SELECT count(*) AS n, sum(x) AS total FROM (VALUES (1), (2), (3)) AS t(x)'
    );
    expect(values.rows).toEqual([[3, 6]]);

    const sizes = [2000, 3000, 1000];
    await produceWindowedReadings(await kafkaPilot.getContext(), 'readings', sizes);
    expect(await countWindows(context, await kafkaPilot.refresh(), 'readings')).toEqual(
      expectedWindows(sizes)
    );

    await kafkaPilot.cancel();
  }, 600_000);

  it('grows by a 2-node child and shrinks back during a query, exact; scancel leaves nothing', async () => {
    const parent = pilots.find(each => each.record.description.type === 'flink')!;
    const context = await parent.getContext<FlinkContext>();
    const child = await client.service.createPilot({
      type: 'flink',
      resource: client.resource,
      numberOfNodes: 2,
      walltimeMinutes: 20,
      parent: parent.id
    });
    pilots.push(child);
    await child.wait('Running', { timeoutMs: 300_000 });
    const grown = (await parent.refresh()).details as FlinkDetails;
    expect(grown.taskManagers).toHaveLength(5);
    const childIds = grown.taskManagers
      .filter(each => each.pilotId === child.id)
      .map(each => each.id);
    expect(childIds).toHaveLength(2);
    const registered = await context.taskManagers();
    expect(registered.map(each => each.id).sort()).toEqual(
      grown.taskManagers.map(each => each.id).sort()
    );
    const slots = registered.reduce((sum, each) => sum + each.slotsNumber, 0);

    // A batch aggregate on every slot, the child's included, while the child is cancelled.
    // Rate-limited (datagen's own throttle), so that it runs long enough (about 20 s) to cancel
    // the child meanwhile: k spreads rows over 100 groups, w is 1 in every row.
    const rows = 400_000;
    await context.execute(
      `CREATE TEMPORARY TABLE numbers (k INT, w INT) WITH ('connector' = 'datagen', 'number-of-rows' = '${rows}', 'rows-per-second' = '${rows / 20}', 'fields.k.min' = '0', 'fields.k.max' = '99', 'fields.w.min' = '1', 'fields.w.max' = '1')`
    );
    const started = Date.now();
    const query = context.sql(
      `SELECT count(*) AS key_count, sum(n) AS n, sum(total) AS total
         FROM (SELECT k, count(*) AS n, sum(w) AS total FROM numbers GROUP BY k)`,
      {
        executionConfig: {
          'execution.runtime-mode': 'batch',
          'table.exec.resource.default-parallelism': String(slots)
        }
      }
    );
    // Awaited below; until then a failure is not unhandled.
    query.catch(() => undefined);
    let slotsSeen = '';
    const childBusy = async (): Promise<boolean> => {
      const listed = await context.taskManagers();
      slotsSeen = listed
        .map(each => `${each.id} ${each.freeSlots}/${each.slotsNumber} free`)
        .join(', ');
      return listed.some(each => childIds.includes(each.id) && each.freeSlots < each.slotsNumber);
    };
    expect({ busy: await until(childBusy, 60_000), slotsSeen }).toEqual({
      busy: true,
      slotsSeen: expect.any(String)
    });
    const shrinking = Date.now();
    await child.cancel();
    console.log(
      `child cancelled (TaskManagers drained) in ${Date.now() - shrinking} ms; query started ${shrinking - started} ms before`
    );
    expect(child.state).toBe('Canceled');
    const log = await readFile(join(child.record.workDir!, 'supervisor.log'), 'utf8');
    expect(log).toMatch(/retiring Flink TaskManagers \S+, \S+: waiting for their slots to drain/);
    expect(log).toMatch(/Flink TaskManagers \S+, \S+ have no slot in use after \d+ ms/);
    expect((await query).rows).toEqual([[100, rows, rows]]);
    const shrunk = (await parent.refresh()).details as FlinkDetails;
    expect(shrunk.taskManagers.map(each => each.pilotId)).toEqual([
      parent.id,
      parent.id,
      parent.id
    ]);
    expect(await until(async () => (await context.taskManagers()).length === 3, 30_000)).toBe(true);

    // Cancelled from outside: the pilot says so, and its processes are gone from every node.
    const canceled = Date.now();
    await run(['scancel', parent.record.job!.jobId], { env: { ...process.env, ...testbed.env } });
    await parent.wait('Canceled', { timeoutMs: 10_000 });
    console.log(
      `scancel -> Canceled in ${Date.now() - canceled} ms: ${parent.record.reason ?? ''}`
    );
    await waitForIdleNodes(testbed, 30_000);
    expect(await processesOnNodes(testbed)).toEqual([]);
  }, 600_000);
});
