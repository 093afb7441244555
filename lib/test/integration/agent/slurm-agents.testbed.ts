import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AGENT_SECRET_FILE, createAgentSecret } from '../../../src/agent/channel.js';
import { ComputeUnit } from '../../../src/pilot/compute-unit.js';
import { UnitAccess } from '../../../src/pilot/unit-access.js';
import { type AgentEndpoint, type PilotRecord } from '../../../src/protocol/index.js';
import { runningRecordWithAgents } from '../../support/agent-record.js';
import { distModule } from '../../support/paths.js';
import { run } from '../../testbed/command.js';
import { waitUntil } from '../../testbed/daemons.js';

const testbed = inject('testbed');
const env = { ...process.env, ...testbed.env };
const pilotId = 'pilot-slurmagents1';
const NODES = ['node1', 'node2', 'node3'];

// One agent per node of a real 3-node SLURM allocation (srun, one task per node), each in its
// node's network namespace; the client on the host spreads units over them.
describe('pilot agents on a 3-node SLURM allocation', () => {
  let dir: string;
  let jobId: string;
  let access: UnitAccess;
  let record: PilotRecord;

  beforeAll(async () => {
    dir = await mkdtemp(join(testbed.dir, 'agents-'));
    await createAgentSecret(join(dir, AGENT_SECRET_FILE));
    const script = join(dir, 'agents.sh');
    const agent = distModule('agent/main.js');
    await writeFile(
      script,
      [
        '#!/bin/sh',
        // Each task starts the agent on its node with the node's own name and address.
        `srun --ntasks-per-node=1 sh -c 'exec "$0" "$1" --pilot-id ${pilotId} --work-dir ${dir} --node "$(hostname)" --cores 2 --host "$(getent hosts "$(hostname)" | cut -d" " -f1)"' ${process.execPath} ${agent}`,
        ''
      ].join('\n'),
      { mode: 0o700 }
    );
    jobId = (
      await run(
        [
          'sbatch',
          '--parsable',
          '-N',
          '3',
          `--nodelist=${NODES.join(',')}`,
          `--output=${join(dir, 'job.out')}`,
          `--chdir=${dir}`,
          script
        ],
        { env }
      )
    ).trim();
    await waitUntil(
      'three agents to report their endpoints',
      async () => NODES.every(node => existsSync(join(dir, 'agents', `${node}.json`))),
      60_000
    );
    const agents = await Promise.all(
      NODES.map(
        async node =>
          JSON.parse(await readFile(join(dir, 'agents', `${node}.json`), 'utf8')) as AgentEndpoint
      )
    );
    record = runningRecordWithAgents(pilotId, dir, agents);
    access = new UnitAccess(async () => record);
  });

  afterAll(async () => {
    access.close();
    await run(['scancel', jobId], { env });
    await waitUntil(
      `job ${jobId} to end`,
      async () =>
        !/JobState=(RUNNING|COMPLETING)/.test(
          await run(['scontrol', 'show', 'job', jobId], { env })
        ),
      60_000
    );
    await rm(dir, { recursive: true, force: true });
  });

  it('runs units on all three nodes, each on the node its record names', async () => {
    const addresses = new Map(testbed.slurm.nodes.map(node => [node.name, node.address]));
    for (const agent of record.agents!) expect(agent.host).toBe(addresses.get(agent.node));
    const units: ComputeUnit[] = [];
    for (let i = 0; i < 30; i++) {
      units.push(
        await access.submit(
          pilotId,
          async (n: number) => {
            await new Promise(resolve => setTimeout(resolve, 50));
            // eslint-disable-next-line @typescript-eslint/no-require-imports -- the agent provides require() to units
            const { hostname } = require('node:os') as typeof import('node:os');
            return { n, host: hostname() };
          },
          [i]
        )
      );
    }
    const executables: ComputeUnit[] = [];
    for (let i = 0; i < 9; i++) {
      executables.push(await access.submit(pilotId, { executable: 'hostname' }, []));
    }
    const records = await access.wait(
      [...units, ...executables].map(unit => unit.record),
      120_000
    );
    expect(records.map(unit => unit.state)).toEqual(Array(39).fill('Done'));
    const perNode = new Map<string, number>();
    for (const unit of records) perNode.set(unit.node, (perNode.get(unit.node) ?? 0) + 1);
    console.log(`units per node: ${JSON.stringify(Object.fromEntries(perNode))}`);
    expect([...perNode.keys()].sort()).toEqual(NODES);
    for (let i = 0; i < 30; i++) {
      units[i]!.apply(records[i]!);
      expect(await units[i]!.result()).toEqual({ n: i, host: records[i]!.node });
    }
    for (let i = 0; i < 9; i++) {
      executables[i]!.apply(records[30 + i]!);
      const result = (await executables[i]!.result()) as { stdout: string };
      expect(result.stdout).toBe(`${records[30 + i]!.node}\n`);
    }
  });
});
