import type { Kafka } from 'kafkajs';
import { PilotNotFoundError, PilotStateError } from '../pilot/index.js';
import {
  isTerminal,
  type PilotRecord,
  type PilotState,
  type StateChange
} from '../protocol/index.js';

/** What kafkaLag needs of a pilot (a Pilot from the service has all of it). */
export interface LagPilot {
  readonly id: string;
  readonly state: PilotState;
  getContext(): Promise<Kafka>;
  on(event: 'state', listener: (change: StateChange, record: PilotRecord) => void): unknown;
  off(event: 'state', listener: (change: StateChange, record: PilotRecord) => void): unknown;
}

/** What kafkaLag needs of the pilot service to find a pilot by id. */
export interface LagPilotDirectory {
  getPilot(id: string): Promise<LagPilot>;
  listPilots(): Promise<{ readonly record: PilotRecord }[]>;
}

/** How many pilots an error names at most. */
const LISTED_PILOTS = 10;

type PilotSummary = Pick<PilotRecord, 'id' | 'state'> & {
  description: Pick<PilotRecord['description'], 'name'>;
};

/** The pilots of a registry as an error names them: live ones first, at most `limit`. */
export function describePilots(records: readonly PilotSummary[], limit = LISTED_PILOTS): string {
  if (records.length === 0) return 'there is no pilot there';
  const live = records.filter(record => !isTerminal(record.state));
  const ended = records.filter(record => isTerminal(record.state));
  const shown = [...live, ...ended].slice(0, limit).map(({ id, state, description }) => {
    const name = description.name !== undefined ? `${description.name}, ` : '';
    return `${id} (${name}${state})`;
  });
  const more = records.length > limit ? ` and ${records.length - limit} more` : '';
  return `the pilots there: ${shown.join(', ')}${more}`;
}

/** A pilot that has ended has no broker left to ask: monitoring it cannot start. */
export function assertMonitorable(pilot: Pick<LagPilot, 'id' | 'state'>): void {
  if (isTerminal(pilot.state)) {
    throw new PilotStateError(
      pilot.id,
      pilot.state,
      'it has ended, so there is no broker to monitor; kafkaLag needs a pilot that is starting or Running'
    );
  }
}

/**
 * The pilot to monitor, by id. An unknown id fails at once, naming the pilots that do exist
 * (sampling it would only fail again at every interval).
 */
export async function findLagPilot(directory: LagPilotDirectory, id: string): Promise<LagPilot> {
  let pilot: LagPilot;
  try {
    pilot = await directory.getPilot(id);
  } catch (error) {
    if (!(error instanceof PilotNotFoundError)) throw error;
    let known: string;
    try {
      known = describePilots((await directory.listPilots()).map(p => p.record));
    } catch (listError) {
      known = `the pilots there could not be listed: ${(listError as Error).message}`;
    }
    throw new Error(`${error.message}; ${known}`, { cause: error });
  }
  assertMonitorable(pilot);
  return pilot;
}
