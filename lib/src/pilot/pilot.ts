import { EventEmitter } from 'node:events';
import type { Kafka } from 'kafkajs';
import type { DashboardTarget } from '../frameworks/plugin.js';
import {
  isTerminal,
  stateRank,
  type FrameworkDetails,
  type PilotDescription,
  type PilotRecord,
  type PilotState,
  type StateChange
} from '../protocol/index.js';
import type { ExecutableUnitInput, UnitRecord } from '../protocol/index.js';
import type { ComputeUnit, ProcessResult } from './compute-unit.js';
import { PilotStateError, PilotWaitError } from './errors.js';
import type { UnitAccess } from './unit-access.js';

export const DEFAULT_WAIT_TIMEOUT_MS = 300_000;
const WAIT_POLL_MS = 200;

export type StateListener = (change: StateChange, record: PilotRecord) => void;

/** Resolves after `ms`, or rejects with the signal's reason as soon as it is aborted. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** What a Pilot needs from its service (reads that see the true state, cancel, contexts). */
export interface PilotBackend {
  /** The record as it is now, with a dead supervisor already turned into Failed. */
  observe(id: string): Promise<PilotRecord>;
  cancel(record: PilotRecord): Promise<PilotRecord>;
  createContext(record: PilotRecord): Promise<unknown>;
  openDashboard(record: PilotRecord): Promise<DashboardTarget | undefined>;
  /** Pilots with state listeners keep the service's registry monitor running. */
  retain(): void;
  release(): void;
  /** Compute units of all pilots of the service. */
  units: UnitAccess;
}

/** A handle on one pilot in the registry; many handles (in many processes) may exist. */
export class Pilot {
  readonly id: string;
  readonly description: PilotDescription;
  private current: PilotRecord;
  private readonly backend: PilotBackend;
  private readonly events = new EventEmitter();
  private context: Promise<unknown> | undefined;

  constructor(record: PilotRecord, backend: PilotBackend) {
    this.id = record.id;
    this.description = record.description;
    this.current = record;
    this.backend = backend;
  }

  /** Last known state (see refresh()). */
  get state(): PilotState {
    return this.current.state;
  }

  /** Last known record (see refresh()). */
  get record(): PilotRecord {
    return this.current;
  }

  async refresh(): Promise<PilotRecord> {
    this.apply(await this.backend.observe(this.id));
    return this.current;
  }

  /** Takes a newer record and emits its new transitions. */
  apply(record: PilotRecord): void {
    if (record.id !== this.id || record.revision <= this.current.revision) return;
    const previous = this.current;
    this.current = record;
    // Closing a context does not fail (a bridge that does not end is killed).
    if (record.state !== 'Running') void this.dropContext();
    for (const change of record.history.slice(previous.history.length)) {
      this.events.emit('state', change, record);
    }
  }

  async details(): Promise<FrameworkDetails> {
    const record = await this.refresh();
    if (record.state !== 'Running' || record.details === undefined) {
      throw new PilotStateError(
        this.id,
        record.state,
        'details are published once it is Running' +
          (record.reason !== undefined ? ` (${record.reason})` : '')
      );
    }
    return record.details;
  }

  /**
   * Resolves once the pilot has reached `state` (or passed it on the way to Running); rejects if
   * it ends elsewhere or `timeoutMs` passes, or with `signal`'s reason once it is aborted (the
   * pilot is left as it is: stopping to wait stops nothing).
   */
  async wait(
    state: PilotState = 'Running',
    options: { timeoutMs?: number; signal?: AbortSignal } = {}
  ): Promise<PilotState> {
    const { signal } = options;
    const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      signal?.throwIfAborted();
      const record = await this.refresh();
      if (record.state === state) return state;
      const ended = isTerminal(record.state);
      if (!ended && !isTerminal(state) && stateRank(record.state) >= stateRank(state)) {
        return record.state;
      }
      if (ended) {
        throw new PilotWaitError(
          this.id,
          record.state,
          `Pilot ${this.id} ended ${record.state} before reaching ${state}` +
            (record.reason !== undefined ? `: ${record.reason}` : '')
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        const stage = record.progress !== undefined ? ` (${record.progress.stage})` : '';
        throw new PilotWaitError(
          this.id,
          record.state,
          `Timed out after ${Math.round(timeoutMs / 1000)} s waiting for pilot ${this.id} to reach ${state}; it is ${record.state}${stage}`
        );
      }
      await pause(Math.min(WAIT_POLL_MS, left), signal);
    }
  }

  /** Stops the pilot (gracefully, then by force); resolves when nothing of it is left. */
  async cancel(): Promise<void> {
    const closing = this.dropContext();
    this.apply(await this.backend.cancel(this.current));
    await closing;
  }

  /** A ready kafkajs client for the pilot's broker (one per Pilot handle). */
  /**
   * The framework's native client for this Running pilot, made once and shared: a kafkajs
   * `Kafka` for a Kafka pilot (the default type argument), a `DaskContext` for a Dask pilot
   * (`getContext<DaskContext>()`).
   */
  async getContext<Context = Kafka>(): Promise<Context> {
    const record = await this.refreshRunning('its context is available once it is Running');
    if (this.context === undefined) {
      const created = this.backend.createContext(record);
      this.context = created;
      created.catch(() => {
        // A failed attempt is reported to its caller; the next call tries again.
        if (this.context === created) this.context = undefined;
      });
    }
    return this.context as Promise<Context>;
  }

  /**
   * The framework's web dashboard of this Running pilot, as the dashboard proxy reaches it (with
   * the pilot's client certificate, through the resource's ssh connection for a remote pilot).
   */
  async dashboard(): Promise<DashboardTarget> {
    const record = await this.refreshRunning('its dashboard is shown while it is Running');
    const target = await this.backend.openDashboard(record);
    if (target === undefined) {
      throw new Error(`Pilot ${this.id} (${record.description.type}) shows no dashboard`);
    }
    return target;
  }

  /** The latest record, which must be Running; `needs` says what asked for it. */
  private async refreshRunning(needs: string): Promise<PilotRecord> {
    const record = await this.refresh();
    if (record.state !== 'Running') throw new PilotStateError(this.id, record.state, needs);
    return record;
  }

  /** Closes the context if one was made (a Dask bridge ends); the next getContext makes another. */
  closeContext(): Promise<void> {
    return this.dropContext();
  }

  /** Forgets the context; one holding a process (a Dask bridge) is closed. */
  private async dropContext(): Promise<void> {
    const context = this.context;
    this.context = undefined;
    // A context that could not be made was reported to whoever asked for it.
    const made = await context?.catch(() => undefined);
    await (made as { close?: () => Promise<void> } | undefined)?.close?.();
  }

  /**
   * Runs a compute unit on a node of this Running pilot (the least loaded one). A function is
   * shipped as its source plus structured-cloneable arguments and runs in a worker thread; it
   * may be async. Closures are not supported: a function must not use variables from outside its
   * own body (pass them as arguments). `{executable, arguments, env, cores}` runs a process
   * without a shell, its stdout/stderr captured to files.
   */
  submit<A extends unknown[], R>(
    fn: (...args: A) => R | Promise<R>,
    ...args: A
  ): Promise<ComputeUnit<Awaited<R>>>;
  submit(executable: ExecutableUnitInput): Promise<ComputeUnit<ProcessResult>>;
  async submit(
    unit: ((...args: never[]) => unknown) | ExecutableUnitInput,
    ...args: unknown[]
  ): Promise<ComputeUnit<unknown>> {
    return this.backend.units.submit(this.id, unit, args);
  }

  /** Records of this pilot's compute units (any process's), in submission order. */
  listUnits(): Promise<UnitRecord[]> {
    return this.backend.units.list(this.id);
  }

  on(event: 'state', listener: StateListener): this {
    if (this.events.listenerCount(event) === 0) this.backend.retain();
    this.events.on(event, listener);
    return this;
  }

  off(event: 'state', listener: StateListener): this {
    const before = this.events.listenerCount(event);
    this.events.off(event, listener);
    if (before > 0 && this.events.listenerCount(event) === 0) this.backend.release();
    return this;
  }

  toJSON(): PilotRecord {
    return this.current;
  }
}
