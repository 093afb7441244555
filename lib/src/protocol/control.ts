import type { PilotDescriptionInput } from './description.js';
import type { PilotSummary } from './records.js';
import type { ValidationProblem } from './validation.js';

/**
 * The comm target through which the side panel talks to a control session of our kernel.
 * The panel opens the comm; the kernel answers requests and pushes snapshots of all pilots
 * whenever the registry changes (whoever changed it: a notebook, the CLI, another panel).
 */
export const CONTROL_COMM_TARGET = 'pilot-streaming.control';

export type ControlRequest =
  | { kind: 'list'; requestId: string }
  | { kind: 'create'; requestId: string; description: PilotDescriptionInput }
  | { kind: 'cancel'; requestId: string; pilotId: string };

export type ControlReply =
  | { kind: 'reply'; requestId: string; ok: true; pilot?: PilotSummary; pilots?: PilotSummary[] }
  | {
      kind: 'reply';
      requestId: string;
      ok: false;
      error: { name: string; message: string; problems?: ValidationProblem[] };
    };

/** Pushed by the kernel on open and on every registry change. */
export interface PilotsSnapshot {
  kind: 'snapshot';
  pilots: PilotSummary[];
  /** ISO time of the snapshot. */
  at: string;
}

/** Progress of a long operation started from the panel (e.g. creating a pilot). */
export interface ControlProgress {
  kind: 'progress';
  requestId: string;
  stage: string;
  /** 0..1 when known. */
  fraction?: number;
}

export type ControlMessage = ControlReply | PilotsSnapshot | ControlProgress;
