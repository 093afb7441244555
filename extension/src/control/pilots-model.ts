import type { Kernel, Session } from '@jupyterlab/services';
import { UUID, type JSONObject } from '@lumino/coreutils';
import { Signal, type ISignal } from '@lumino/signaling';
import {
  CONTROL_COMM_TARGET,
  type ControlMessage,
  type ControlReply,
  type ControlRequest,
  type PilotDescriptionInput,
  type PilotSummary
} from '@pilot-streaming/lib/protocol';
import {
  applyProgress,
  applySnapshot,
  EMPTY_PILOTS_STATE,
  endCancel,
  endCreate,
  startCancel,
  startCreate,
  type PilotsState
} from '../pilots/pilots-state';
import type { ControlConnectionStatus, ControlErrorInfo, IPilotsModel } from '../tokens';
import { ControlError } from './control-error';

export interface PilotsModelOptions {
  sessions: Session.IManager;
  /** Kernelspec of the control session. */
  kernelName: string;
  /** Fixed session path, so every browser tab (and a reload) finds the same control kernel. */
  sessionPath: string;
  /** Time to wait for the first snapshot after opening the comm. */
  openTimeoutMs?: number;
}

type Pending = { resolve: (reply: ControlReply) => void; reject: (error: Error) => void };

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 10_000;
/**
 * The server does not always tell a kernel connection that its kernel was restarted (e.g. a
 * restart through the REST API), and a restarted kernel silently drops messages for comms it
 * never opened. So the model asks for the list now and then, and reopens when nobody answers.
 */
const HEARTBEAT_MS = 5000;
const HEARTBEAT_TIMEOUT_MS = 10_000;

/**
 * Owns the panel's connection to a headless control session of our kernel: finds the session
 * at a fixed path (or starts it), opens the control comm, keeps the pilot list from the
 * snapshots the kernel pushes, and reconnects when the kernel restarts or dies.
 */
export class PilotsModel implements IPilotsModel {
  private currentState: PilotsState = EMPTY_PILOTS_STATE;
  private status: ControlConnectionStatus = { state: 'connecting' };
  private error: ControlErrorInfo | undefined;
  private readonly changedSignal = new Signal<IPilotsModel, void>(this);
  private session: Session.ISessionConnection | undefined;
  private comm: Kernel.IComm | undefined;
  private readonly pending = new Map<string, Pending>();
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private openTimer: ReturnType<typeof setTimeout> | undefined;
  private retryMs = RETRY_MIN_MS;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private heartbeatInFlight = false;
  private disposed = false;

  constructor(private readonly options: PilotsModelOptions) {}

  get state(): PilotsState {
    return this.currentState;
  }

  get connection(): ControlConnectionStatus {
    return this.status;
  }

  get lastError(): ControlErrorInfo | undefined {
    return this.error;
  }

  get changed(): ISignal<IPilotsModel, void> {
    return this.changedSignal;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Connects (and keeps reconnecting until disposed). */
  start(): void {
    this.heartbeat = setInterval(() => void this.checkAlive(), HEARTBEAT_MS);
    void this.connect();
  }

  async create(description: PilotDescriptionInput): Promise<PilotSummary> {
    const requestId = UUID.uuid4();
    this.update({ state: startCreate(this.currentState, requestId, description) });
    try {
      const reply = await this.request({ kind: 'create', requestId, description });
      if (!reply.ok) throw new ControlError(reply.error);
      if (reply.pilot === undefined) {
        throw new ControlError({
          name: 'ProtocolError',
          message: 'The kernel created a pilot but did not say which.'
        });
      }
      return reply.pilot;
    } finally {
      this.update({ state: endCreate(this.currentState, requestId) });
    }
  }

  async cancel(pilotId: string): Promise<void> {
    this.update({ state: startCancel(this.currentState, pilotId) });
    try {
      const reply = await this.request({ kind: 'cancel', requestId: UUID.uuid4(), pilotId });
      if (!reply.ok) throw new ControlError(reply.error);
    } finally {
      this.update({ state: endCancel(this.currentState, pilotId) });
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.openTimer);
    clearInterval(this.heartbeat);
    this.detach('The panel was closed.');
    Signal.clearData(this);
  }

  private update(change: {
    state?: PilotsState;
    status?: ControlConnectionStatus;
    error?: ControlErrorInfo | undefined;
  }): void {
    if (change.state !== undefined) this.currentState = change.state;
    if (change.status !== undefined) this.status = change.status;
    if ('error' in change) this.error = change.error;
    this.changedSignal.emit();
  }

  private async connect(): Promise<void> {
    if (this.disposed) return;
    this.update({ status: { state: 'connecting' } });
    try {
      const session = await this.findOrStartSession();
      if (this.disposed) {
        session.dispose();
        return;
      }
      this.session = session;
      session.statusChanged.connect(this.onKernelStatus, this);
      session.kernelChanged.connect(this.onKernelChanged, this);
      session.connectionStatusChanged.connect(this.onConnectionStatus, this);
      this.openComm();
    } catch (error) {
      this.retry(
        `Cannot start the control kernel "${this.options.kernelName}": ${messageOf(error)}. ` +
          'Is its kernelspec installed ("pilot-streaming kernel install")?'
      );
    }
  }

  private async findOrStartSession(): Promise<Session.ISessionConnection> {
    const { sessions, sessionPath, kernelName } = this.options;
    await sessions.ready;
    const existing = await sessions.findByPath(sessionPath);
    if (existing?.kernel && existing.kernel.execution_state !== 'dead') {
      return sessions.connectTo({ model: existing });
    }
    if (existing) {
      // A control session whose kernel died: replace it rather than talk to a corpse.
      await sessions.shutdown(existing.id);
    }
    return sessions.startNew({
      path: sessionPath,
      type: 'pilot-streaming-control',
      name: 'Pilot-Streaming control',
      kernel: { name: kernelName }
    });
  }

  private openComm(): void {
    const kernel = this.session?.kernel;
    if (!kernel) {
      this.retry('The control session has no kernel.');
      return;
    }
    this.closeComm();
    this.rejectPending('The control connection was reopened.');
    const comm = kernel.createComm(CONTROL_COMM_TARGET);
    this.comm = comm;
    comm.onMsg = message =>
      this.onControlMessage(message.content.data as unknown as ControlMessage);
    comm.onClose = () => {
      if (this.comm !== comm) return;
      this.comm = undefined;
      this.rejectPending('The control kernel closed the connection.');
      this.retry('The control kernel closed the connection.');
    };
    clearTimeout(this.openTimer);
    this.openTimer = setTimeout(() => {
      if (this.comm === comm && this.status.state !== 'connected') {
        this.retry(`The control kernel did not answer within ${this.timeoutMs / 1000} s.`);
      }
    }, this.timeoutMs);
    comm.open({}).done.catch((error: unknown) => {
      if (this.comm === comm)
        this.retry(`Opening the control connection failed: ${messageOf(error)}`);
    });
  }

  private get timeoutMs(): number {
    return this.options.openTimeoutMs ?? 60_000;
  }

  private onControlMessage(message: ControlMessage): void {
    switch (message.kind) {
      case 'snapshot':
        clearTimeout(this.openTimer);
        this.retryMs = RETRY_MIN_MS;
        this.update({
          state: applySnapshot(this.currentState, message),
          status: { state: 'connected' }
        });
        return;
      case 'progress':
        this.update({ state: applyProgress(this.currentState, message) });
        return;
      case 'reply': {
        const waiting = this.pending.get(message.requestId);
        if (waiting) {
          this.pending.delete(message.requestId);
          waiting.resolve(message);
        } else if (!message.ok) {
          // Not an answer to anything the user is waiting on: show it in the panel.
          this.update({ error: message.error });
        }
        return;
      }
    }
  }

  private async checkAlive(): Promise<void> {
    if (this.status.state !== 'connected' || this.heartbeatInFlight) return;
    this.heartbeatInFlight = true;
    const requestId = UUID.uuid4();
    const timer = setTimeout(() => {
      const waiting = this.pending.get(requestId);
      if (waiting) {
        this.pending.delete(requestId);
        waiting.reject(
          new ControlError({ name: 'Timeout', message: 'No answer from the control kernel.' })
        );
      }
    }, HEARTBEAT_TIMEOUT_MS);
    try {
      // Any answer will do: snapshots keep the list current, this only proves the comm works.
      await this.request({ kind: 'list', requestId });
    } catch (error) {
      if (this.status.state === 'connected') {
        this.retry(`The control kernel stopped answering (${messageOf(error)}); reconnecting.`);
      }
    } finally {
      clearTimeout(timer);
      this.heartbeatInFlight = false;
    }
  }

  private request(request: ControlRequest): Promise<ControlReply> {
    const comm = this.comm;
    if (!comm || this.status.state !== 'connected') {
      return Promise.reject(
        new ControlError({
          name: 'NotConnected',
          message: `Not connected to the control kernel${this.status.message ? `: ${this.status.message}` : '.'}`
        })
      );
    }
    return new Promise<ControlReply>((resolve, reject) => {
      this.pending.set(request.requestId, { resolve, reject });
      comm.send(request as unknown as JSONObject);
    });
  }

  private onKernelStatus(_: Session.ISessionConnection, status: Kernel.Status): void {
    if (status === 'restarting' || status === 'autorestarting') {
      // A new kernel process: our comm died with the old one, so there is nothing to close.
      // The status may stay "autorestarting" until the next tracked request, so don't wait
      // for "idle": reopen after the usual delay (the connection queues it until it is back).
      this.comm = undefined;
      this.rejectPending('The control kernel is restarting.');
      this.retry('The control kernel is restarting.');
    } else if (status === 'dead') {
      this.rejectPending('The control kernel died.');
      this.detach('The control kernel died.');
      this.retry('The control kernel died; starting a new one.');
    }
  }

  private onKernelChanged(): void {
    // A new kernel (e.g. changed from the "Running" panel) knows nothing of our comm.
    this.rejectPending('The control kernel was replaced.');
    this.openComm();
  }

  private onConnectionStatus(_: Session.ISessionConnection, status: Kernel.ConnectionStatus): void {
    if (status === 'disconnected') {
      this.update({
        status: { state: 'disconnected', message: 'Lost the connection to the server.' }
      });
    } else if (status === 'connected' && this.status.state === 'disconnected') {
      // Messages may have been lost while the websocket was down: ask for a fresh snapshot.
      this.openComm();
    }
  }

  private retry(message: string): void {
    if (this.disposed) return;
    this.closeComm();
    this.update({ status: { state: 'disconnected', message } });
    // Several reasons can arrive for one failure (e.g. "restarting" then "autorestarting").
    if (this.retryTimer !== undefined) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.session && !this.session.isDisposed && this.session.kernel?.status !== 'dead') {
        this.openComm();
      } else {
        this.detach(message);
        void this.connect();
      }
    }, delay);
  }

  private closeComm(): void {
    const comm = this.comm;
    this.comm = undefined;
    if (comm && !comm.isDisposed) {
      try {
        comm.close();
      } catch (error) {
        // The kernel may already be gone; the comm is dropped either way.
        console.warn('Pilot-Streaming: closing the control comm failed', error);
      }
    }
  }

  private detach(reason: string): void {
    this.closeComm();
    this.rejectPending(reason);
    const session = this.session;
    this.session = undefined;
    if (session) {
      session.statusChanged.disconnect(this.onKernelStatus, this);
      session.kernelChanged.disconnect(this.onKernelChanged, this);
      session.connectionStatusChanged.disconnect(this.onConnectionStatus, this);
      // Dispose our connection only: the control kernel stays for other tabs.
      session.dispose();
    }
  }

  private rejectPending(message: string): void {
    for (const [, waiting] of this.pending) {
      waiting.reject(new ControlError({ name: 'ConnectionLost', message }));
    }
    this.pending.clear();
  }
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
