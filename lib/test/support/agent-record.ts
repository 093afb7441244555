import {
  parsePilotDescription,
  type AgentEndpoint,
  type PilotRecord
} from '../../src/protocol/index.js';

/**
 * The record of a Running pilot whose only parts are the given agents (started by the test
 * itself), for driving UnitAccess without a supervisor.
 */
export function runningRecordWithAgents(
  id: string,
  workDir: string,
  agents: AgentEndpoint[]
): PilotRecord {
  const now = new Date().toISOString();
  return {
    format: 1,
    id,
    description: parsePilotDescription({ type: 'kafka', resource: 'fork://localhost' }),
    state: 'Running',
    history: [{ state: 'Running', at: now }],
    revision: 3,
    createdAt: now,
    updatedAt: now,
    workDir,
    agents
  };
}
