import { Token } from '@lumino/coreutils';
import type { ISignal } from '@lumino/signaling';
import type {
  PilotDescriptionInput,
  PilotSummary,
  ValidationProblem
} from '@pilot-streaming/lib/protocol';
import type { PilotsState } from './pilots/pilots-state';

/** State of the panel's connection to its control kernel. */
export interface ControlConnectionStatus {
  state: 'connecting' | 'connected' | 'disconnected';
  /** Why it is not connected (kernel missing, restarting, dead...). */
  message?: string;
}

/** An error the kernel reported for a request, or a problem of the connection itself. */
export interface ControlErrorInfo {
  name: string;
  message: string;
  problems?: ValidationProblem[];
}

/** The pilots the panel shows and the actions it offers, backed by a control kernel. */
export interface IPilotsModel {
  readonly state: PilotsState;
  readonly connection: ControlConnectionStatus;
  /** Last error not tied to a request the user is waiting on (e.g. the registry is unreadable). */
  readonly lastError: ControlErrorInfo | undefined;
  /** Emitted after any of the above changed. */
  readonly changed: ISignal<IPilotsModel, void>;
  /** Resolves with the new pilot (Pending) or rejects with a ControlError. */
  create(description: PilotDescriptionInput): Promise<PilotSummary>;
  /** Resolves once the pilot is Canceled or rejects with a ControlError. */
  cancel(pilotId: string): Promise<void>;
}

export const IPilotsModel = new Token<IPilotsModel>(
  '@pilot-streaming/jupyterlab:IPilotsModel',
  'The pilots in the registry and the control connection that keeps them up to date.'
);
