import { describe, expect, it } from 'vitest';
import { withChild, withoutChild } from '../../../src/frameworks/index.js';
import type { JobManagerClient } from '../../../src/frameworks/flink/rest-client.js';
import { drainTaskManagers } from '../../../src/frameworks/flink/retire.js';
import type { FlinkDetails } from '../../../src/protocol/index.js';

const parent: FlinkDetails = {
  type: 'flink',
  restAddress: 'https://node-1:40001',
  sqlGatewayAddress: 'https://node-1:40002',
  rpcAddress: 'node-1:40003',
  taskManagers: [{ node: 'node-1', address: '10.0.0.1', id: 'pilot-p_node-1', pilotId: 'pilot-p' }],
  flinkVersion: '2.3.0',
  security: 'tls'
};
const child: FlinkDetails = {
  ...parent,
  taskManagers: [
    { node: 'node-2', address: '10.0.0.2', id: 'pilot-c_node-2', pilotId: 'pilot-c' },
    { node: 'node-3', address: '10.0.0.3', id: 'pilot-c_node-3', pilotId: 'pilot-c' }
  ]
};

describe("a Flink child's TaskManagers in its parent's details", () => {
  it('join while the child runs (once, however often it is told) and leave with it', () => {
    const grown = withChild(withChild(parent, child), child) as FlinkDetails;
    expect(grown.taskManagers.map(each => each.id)).toEqual([
      'pilot-p_node-1',
      'pilot-c_node-2',
      'pilot-c_node-3'
    ]);
    expect(withoutChild(grown, 'pilot-c')).toEqual(parent);
  });
});

/** A JobManager whose TaskManagers' free slots follow `script`, one list a poll. */
function scriptedJobManager(script: { id: string; freeSlots: number }[][]): JobManagerClient {
  let poll = 0;
  return {
    taskManagers: () => {
      const listed = script[Math.min(poll++, script.length - 1)]!;
      return Promise.resolve(
        listed.map(each => ({
          ...each,
          path: `pekko.ssl.tcp://flink@h:1/${each.id}`,
          slotsNumber: 2
        }))
      );
    }
  } as unknown as JobManagerClient;
}

describe("draining a child's TaskManagers", () => {
  it('waits until every one has all its slots free (or is gone), then says so', async () => {
    const jobManager = scriptedJobManager([
      [
        { id: 'c_2', freeSlots: 0 },
        { id: 'c_3', freeSlots: 1 },
        { id: 'p_1', freeSlots: 0 }
      ],
      [
        { id: 'c_2', freeSlots: 2 },
        { id: 'c_3', freeSlots: 1 },
        { id: 'p_1', freeSlots: 0 }
      ],
      [
        { id: 'c_2', freeSlots: 2 },
        { id: 'p_1', freeSlots: 0 }
      ]
    ]);
    const drained = await drainTaskManagers({
      jobManager,
      ids: ['c_2', 'c_3'],
      timeoutMs: 10_000,
      pollMs: 1
    });
    expect(drained.busy).toEqual([]);
  });

  it('gives up after its time, naming the ones still busy', async () => {
    const jobManager = scriptedJobManager([
      [
        { id: 'c_2', freeSlots: 2 },
        { id: 'c_3', freeSlots: 0 }
      ]
    ]);
    const drained = await drainTaskManagers({
      jobManager,
      ids: ['c_2', 'c_3'],
      timeoutMs: 20,
      pollMs: 5
    });
    expect(drained.busy).toEqual(['c_3']);
    expect(drained.ms).toBeGreaterThanOrEqual(20);
  });
});
