import { randomUUID } from 'node:crypto';
import type { CommTargetHandler, KernelComm } from './api.js';

/** Sends a comm message (comm_open / comm_msg / comm_close) to the frontend on iopub. */
export type CommSender = (
  msgType: 'comm_open' | 'comm_msg' | 'comm_close',
  content: Record<string, unknown>,
  buffers?: readonly Uint8Array[]
) => void;

type Listener<T extends unknown[]> = (...args: T) => void;

class Comm implements KernelComm {
  private readonly messageListeners: Listener<[unknown, readonly Uint8Array[]]>[] = [];
  private readonly closeListeners: Listener<[unknown]>[] = [];
  private isClosed = false;

  constructor(
    readonly commId: string,
    readonly targetName: string,
    private readonly sender: CommSender,
    private readonly onClosed: (comm: Comm) => void,
    private readonly onListenerError: (error: unknown) => void
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  send(data: unknown, buffers: readonly Uint8Array[] = []): void {
    if (this.isClosed) throw new Error(`comm ${this.commId} (${this.targetName}) is closed`);
    this.sender('comm_msg', { comm_id: this.commId, data: data ?? {} }, buffers);
  }

  close(data?: unknown): void {
    if (this.isClosed) return;
    this.sender('comm_close', { comm_id: this.commId, data: data ?? {} });
    this.markClosed(data);
  }

  onMessage(listener: Listener<[unknown, readonly Uint8Array[]]>): void {
    this.messageListeners.push(listener);
  }

  onClose(listener: Listener<[unknown]>): void {
    this.closeListeners.push(listener);
  }

  received(data: unknown, buffers: readonly Uint8Array[]): void {
    for (const listener of this.messageListeners) this.guard(() => listener(data, buffers));
  }

  /** Closed by either side: forget the comm and tell its listeners. */
  markClosed(data: unknown): void {
    this.isClosed = true;
    this.onClosed(this);
    for (const listener of this.closeListeners) this.guard(() => listener(data));
  }

  private guard(call: () => unknown): void {
    try {
      const result = call();
      if (result instanceof Promise) result.catch(this.onListenerError);
    } catch (error) {
      this.onListenerError(error);
    }
  }
}

/** Comm targets and open comms of the kernel (Jupyter messaging "custom messages"). */
export class CommManager {
  private readonly targets = new Map<string, CommTargetHandler>();
  private readonly comms = new Map<string, Comm>();

  constructor(
    private readonly sender: CommSender,
    private readonly onError: (error: unknown) => void
  ) {}

  registerTarget(targetName: string, handler: CommTargetHandler): void {
    if (typeof handler !== 'function') {
      throw new TypeError(`comm target ${JSON.stringify(targetName)}: handler must be a function`);
    }
    this.targets.set(targetName, handler);
  }

  /** Opens a comm from the kernel side. */
  open(targetName: string, data: unknown = {}, metadata: Record<string, unknown> = {}): KernelComm {
    const comm = this.create(randomUUID(), targetName);
    this.sender('comm_open', { comm_id: comm.commId, target_name: targetName, data, metadata });
    return comm;
  }

  /** comm_open from the frontend: hand it to the target, or close it if there is none. */
  handleOpen(content: Record<string, unknown>): void {
    const commId = String(content.comm_id);
    const targetName = String(content.target_name);
    const handler = this.targets.get(targetName);
    if (handler === undefined) {
      this.onError(new Error(`comm_open for unknown target ${JSON.stringify(targetName)}`));
      this.sender('comm_close', { comm_id: commId, data: {} });
      return;
    }
    const comm = this.create(commId, targetName);
    try {
      const result: unknown = handler(comm, content.data);
      if (result instanceof Promise) result.catch(this.onError);
    } catch (error) {
      this.onError(error);
      comm.close({ error: error instanceof Error ? error.message : String(error) });
    }
  }

  handleMessage(content: Record<string, unknown>, buffers: readonly Uint8Array[]): void {
    const comm = this.comms.get(String(content.comm_id));
    if (comm === undefined) {
      this.onError(new Error(`comm_msg for unknown comm ${JSON.stringify(content.comm_id)}`));
      return;
    }
    comm.received(content.data, buffers);
  }

  handleClose(content: Record<string, unknown>): void {
    const comm = this.comms.get(String(content.comm_id));
    if (comm === undefined) {
      this.onError(new Error(`comm_close for unknown comm ${JSON.stringify(content.comm_id)}`));
      return;
    }
    comm.markClosed(content.data);
  }

  /** For comm_info_request: open comms, optionally of one target. */
  info(targetName?: string): Record<string, { target_name: string }> {
    const result: Record<string, { target_name: string }> = {};
    for (const [commId, comm] of this.comms) {
      if (targetName === undefined || comm.targetName === targetName) {
        result[commId] = { target_name: comm.targetName };
      }
    }
    return result;
  }

  private create(commId: string, targetName: string): Comm {
    const comm = new Comm(
      commId,
      targetName,
      this.sender,
      closed => this.comms.delete(closed.commId),
      this.onError
    );
    this.comms.set(commId, comm);
    return comm;
  }
}
