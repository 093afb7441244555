import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { thisNodeName } from '../../../src/allocation/node-name.js';
import { allocationNodes } from '../../../src/allocation/nodes.js';

describe('thisNodeName', () => {
  it('is the name SLURM knows the node by inside a job, whatever the host calls itself', () => {
    expect(thisNodeName({ SLURMD_NODENAME: 'node2' }, 'node2.cluster.example.org')).toBe('node2');
  });

  it('is the host name outside SLURM (fork://, ssh://)', () => {
    expect(thisNodeName({}, 'laptop')).toBe('laptop');
  });

  it('ignores an empty SLURMD_NODENAME', () => {
    expect(thisNodeName({ SLURMD_NODENAME: '' }, 'laptop')).toBe('laptop');
  });
});

describe('allocationNodes inside a SLURM job', () => {
  it('finds its own node by SLURMD_NODENAME when the host name differs from the node name', async () => {
    // SLURM's NodeName "localhost" is not this machine's host name, as a short NodeName is not
    // a node's fully qualified host name on many clusters.
    expect(hostname()).not.toBe('localhost');
    const nodes = await allocationNodes({
      SLURM_JOB_ID: '42',
      SLURM_JOB_NODELIST: 'localhost',
      SLURMD_NODENAME: 'localhost'
    });
    expect(nodes).toEqual([{ name: 'localhost', address: '127.0.0.1', launcher: [] }]);
  });
});
