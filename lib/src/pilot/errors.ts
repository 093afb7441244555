import type { PilotState } from '../protocol/index.js';

/** No record with this id in the registry. */
export class PilotNotFoundError extends Error {
  readonly pilotId: string;

  constructor(pilotId: string, registryDir: string) {
    super(`No pilot with id "${pilotId}" in the registry at ${registryDir}`);
    this.name = 'PilotNotFoundError';
    this.pilotId = pilotId;
  }
}

/** An operation that needs another state (e.g. details() of a Pending pilot). */
export class PilotStateError extends Error {
  readonly pilotId: string;
  readonly state: PilotState;

  constructor(pilotId: string, state: PilotState, message: string) {
    super(`Pilot ${pilotId} is ${state}: ${message}`);
    this.name = 'PilotStateError';
    this.pilotId = pilotId;
    this.state = state;
  }
}

/** A transition the state model forbids (e.g. Failed -> Running). */
export class InvalidTransitionError extends Error {
  constructor(pilotId: string, from: PilotState, to: PilotState) {
    super(`Pilot ${pilotId} cannot go from ${from} to ${to}`);
    this.name = 'InvalidTransitionError';
  }
}

/** wait() gave up: the pilot ended in another state, or the time ran out. */
export class PilotWaitError extends Error {
  readonly pilotId: string;
  readonly state: PilotState;

  constructor(pilotId: string, state: PilotState, message: string) {
    super(message);
    this.name = 'PilotWaitError';
    this.pilotId = pilotId;
    this.state = state;
  }
}
