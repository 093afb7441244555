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

/** A registry record that cannot be used: not JSON, not a record, or not the record of its file. */
export class DamagedRecordError extends Error {
  readonly pilotId: string;
  /** Where the record is (a path, possibly host:path for a resource's copy). */
  readonly file: string;
  /** What is wrong with it. */
  readonly problem: string;

  constructor(pilotId: string, file: string, problem: string) {
    super(`The registry record of ${pilotId} (${file}) is damaged: ${problem}`);
    this.name = 'DamagedRecordError';
    this.pilotId = pilotId;
    this.file = file;
    this.problem = problem;
  }
}

/** The registry could not be written (e.g. it is read-only for this user). */
export class RegistryWriteError extends Error {
  /** The file or directory that could not be written. */
  readonly path: string;
  readonly code: string | undefined;

  constructor(what: string, path: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    super(
      `Cannot ${what}: ${path} is not writable (${cause instanceof Error ? cause.message : String(cause)})`,
      { cause }
    );
    this.name = 'RegistryWriteError';
    this.path = path;
    this.code = code;
  }
}
