import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_SECRET_FILE, createAgentSecret } from '../../../src/agent/channel.js';
import { startAgent, type SupervisedAgent } from '../../../src/agent/supervision.js';
import { ComputeUnit } from '../../../src/pilot/compute-unit.js';
import { UnitAccess } from '../../../src/pilot/unit-access.js';
import { type PilotRecord, type UnitRecord } from '../../../src/protocol/index.js';
import { runningRecordWithAgents } from '../../support/agent-record.js';
import { processesMentioning } from '../../support/pilot-home.js';

// Three agent processes, as on the three nodes of an allocation, behind one pilot record.
describe('compute units over several agents', () => {
  let workDir: string;
  const agents: SupervisedAgent[] = [];
  let access: UnitAccess;
  let record: PilotRecord;
  const pilotId = 'pilot-spread000001';

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'pilot-agent-spread-'));
    await createAgentSecret(join(workDir, AGENT_SECRET_FILE));
    for (const node of ['node-1', 'node-2', 'node-3']) {
      agents.push(
        await startAgent({
          pilotId,
          workDir,
          node: { name: node, address: '127.0.0.1', launcher: [] },
          cores: 1
        })
      );
    }
    record = runningRecordWithAgents(
      pilotId,
      workDir,
      agents.map(agent => agent.endpoint)
    );
    access = new UnitAccess(async () => record);
  });

  afterAll(async () => {
    access.close();
    await Promise.all(agents.map(agent => agent.stop(5_000)));
    expect(await processesMentioning(workDir)).toEqual([]);
    await rm(workDir, { recursive: true, force: true });
  });

  it('spreads units over the least loaded agents and waits for all of them', async () => {
    const units: ComputeUnit[] = [];
    for (let i = 0; i < 30; i++) {
      units.push(
        await access.submit(
          pilotId,
          async (n: number) => {
            await new Promise(resolve => setTimeout(resolve, 20));
            return n * 3;
          },
          [i]
        )
      );
    }
    const records: UnitRecord[] = await access.wait(
      units.map(unit => unit.record),
      60_000
    );
    expect(records.map(unit => unit.state)).toEqual(Array(30).fill('Done'));
    const perNode = new Map<string, number>();
    for (const unit of records) perNode.set(unit.node, (perNode.get(unit.node) ?? 0) + 1);
    console.log(`units per node: ${JSON.stringify(Object.fromEntries(perNode))}`);
    expect([...perNode.keys()].sort()).toEqual(['node-1', 'node-2', 'node-3']);
    for (const count of perNode.values()) expect(count).toBeGreaterThanOrEqual(5);
    for (let i = 0; i < 30; i++) {
      units[i]!.apply(records[i]!);
      expect(await units[i]!.result()).toBe(i * 3);
    }
    expect((await access.list(pilotId)).length).toBe(30);
  });
});
