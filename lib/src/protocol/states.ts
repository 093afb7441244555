/** One state model for pilots and compute units. */
export const PILOT_STATES = ['New', 'Pending', 'Running', 'Done', 'Failed', 'Canceled'] as const;
export type PilotState = (typeof PILOT_STATES)[number];

export const TERMINAL_STATES: readonly PilotState[] = ['Done', 'Failed', 'Canceled'];

export function isTerminal(state: PilotState): boolean {
  return TERMINAL_STATES.includes(state);
}

/** Allowed transitions; anything else is a bug and is refused by the registry. */
const NEXT: Record<PilotState, readonly PilotState[]> = {
  New: ['Pending', 'Failed', 'Canceled'],
  Pending: ['Running', 'Failed', 'Canceled'],
  Running: ['Done', 'Failed', 'Canceled'],
  Done: [],
  Failed: [],
  Canceled: []
};

export function canTransition(from: PilotState, to: PilotState): boolean {
  return NEXT[from].includes(to);
}

/** Position of a state along the normal life of a pilot, used by `wait(state)`. */
export function stateRank(state: PilotState): number {
  return isTerminal(state) ? 3 : PILOT_STATES.indexOf(state);
}
