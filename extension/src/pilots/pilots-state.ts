import type {
  ControlProgress,
  PilotDescriptionInput,
  PilotsSnapshot,
  PilotSummary
} from '@pilot-streaming/lib/protocol';

/** A "create" the panel sent and the kernel has not answered yet. */
export interface PendingCreate {
  requestId: string;
  description: PilotDescriptionInput;
  stage?: string;
  fraction?: number;
}

/** What the panel shows; replaced as a whole on every change (immutable). */
export interface PilotsState {
  /** Newest first. */
  pilots: readonly PilotSummary[];
  /** Time of the snapshot the list comes from. */
  snapshotAt?: string;
  creating: readonly PendingCreate[];
  /** Pilots with a cancel request in flight. */
  canceling: readonly string[];
}

export const EMPTY_PILOTS_STATE: PilotsState = { pilots: [], creating: [], canceling: [] };

function newestFirst(a: PilotSummary, b: PilotSummary): number {
  return b.createdAt.localeCompare(a.createdAt) || a.id.localeCompare(b.id);
}

/**
 * Takes a snapshot from the kernel. A snapshot older than the one shown is dropped: after a
 * reconnect a late message from the old comm must not undo newer news.
 */
export function applySnapshot(state: PilotsState, snapshot: PilotsSnapshot): PilotsState {
  if (state.snapshotAt !== undefined && Date.parse(snapshot.at) < Date.parse(state.snapshotAt)) {
    return state;
  }
  const known = new Set(snapshot.pilots.map(p => p.id));
  return {
    ...state,
    pilots: [...snapshot.pilots].sort(newestFirst),
    snapshotAt: snapshot.at,
    // A pilot that is gone from the registry can no longer be canceling.
    canceling: state.canceling.filter(id => known.has(id))
  };
}

export function startCreate(
  state: PilotsState,
  requestId: string,
  description: PilotDescriptionInput
): PilotsState {
  return { ...state, creating: [...state.creating, { requestId, description }] };
}

export function applyProgress(state: PilotsState, progress: ControlProgress): PilotsState {
  if (!state.creating.some(c => c.requestId === progress.requestId)) return state;
  return {
    ...state,
    creating: state.creating.map(c =>
      c.requestId === progress.requestId
        ? {
            requestId: c.requestId,
            description: c.description,
            stage: progress.stage,
            ...(progress.fraction !== undefined ? { fraction: progress.fraction } : {})
          }
        : c
    )
  };
}

export function endCreate(state: PilotsState, requestId: string): PilotsState {
  return { ...state, creating: state.creating.filter(c => c.requestId !== requestId) };
}

export function startCancel(state: PilotsState, pilotId: string): PilotsState {
  if (state.canceling.includes(pilotId)) return state;
  return { ...state, canceling: [...state.canceling, pilotId] };
}

export function endCancel(state: PilotsState, pilotId: string): PilotsState {
  return { ...state, canceling: state.canceling.filter(id => id !== pilotId) };
}
