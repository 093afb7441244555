import type { UnitResult } from '../agent/messages.js';
import { isTerminal, type PilotState, type UnitError, type UnitRecord } from '../protocol/index.js';

export const DEFAULT_UNIT_WAIT_TIMEOUT_MS = 300_000;

/** What a ComputeUnit needs: the unit's true record, its outcome, cancel and its output. */
export interface UnitBackend {
  /** Waits until the units end or `timeoutMs` passes; returns their records as they are then. */
  wait(records: UnitRecord[], timeoutMs: number): Promise<UnitRecord[]>;
  result(record: UnitRecord): Promise<UnitResult>;
  cancel(record: UnitRecord): Promise<UnitRecord>;
  output(record: UnitRecord, stream: 'stdout' | 'stderr'): Promise<string>;
}

/** result() of a Failed unit: the error raised on the node, with the node's stack. */
export class ComputeUnitError extends Error {
  readonly unitId: string;
  readonly remoteStack: string | undefined;
  readonly exitCode: number | null | undefined;

  constructor(record: UnitRecord, error: UnitError | undefined) {
    super(error?.message ?? record.reason ?? `compute unit ${record.id} is ${record.state}`);
    this.name = error?.name ?? (record.state === 'Canceled' ? 'CanceledError' : 'ComputeUnitError');
    this.unitId = record.id;
    this.remoteStack = error?.stack;
    this.exitCode = record.exitCode;
    if (error?.stack !== undefined)
      this.stack = `${error.stack}\n    (on node ${record.node}, unit ${record.id})`;
  }
}

/** wait() ran out of time. */
export class UnitWaitError extends Error {
  constructor(
    message: string,
    readonly records: UnitRecord[]
  ) {
    super(message);
    this.name = 'UnitWaitError';
  }
}

/** Value of an executable unit. */
export interface ProcessResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** A handle on one compute unit; many handles (in many processes) may exist. */
export class ComputeUnit<T = unknown> {
  readonly id: string;
  readonly pilotId: string;
  private current: UnitRecord;

  constructor(
    record: UnitRecord,
    private readonly backend: UnitBackend
  ) {
    this.id = record.id;
    this.pilotId = record.pilotId;
    this.current = record;
  }

  get state(): PilotState {
    return this.current.state;
  }

  get record(): UnitRecord {
    return this.current;
  }

  get node(): string {
    return this.current.node;
  }

  get submitted(): Date {
    return new Date(this.current.submittedAt);
  }

  get started(): Date | undefined {
    return this.current.startedAt !== undefined ? new Date(this.current.startedAt) : undefined;
  }

  get finished(): Date | undefined {
    return this.current.finishedAt !== undefined ? new Date(this.current.finishedAt) : undefined;
  }

  /** Takes a record read elsewhere (e.g. by waitAll). */
  apply(record: UnitRecord): void {
    if (record.id === this.id) this.current = record;
  }

  async refresh(): Promise<UnitRecord> {
    const [record] = await this.backend.wait([this.current], 0);
    this.current = record!;
    return this.current;
  }

  /** Resolves with the final state (Done, Failed or Canceled); rejects after `timeoutMs`. */
  async wait(options: { timeoutMs?: number } = {}): Promise<PilotState> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_UNIT_WAIT_TIMEOUT_MS;
    const [record] = await this.backend.wait([this.current], timeoutMs);
    this.current = record!;
    if (!isTerminal(record!.state)) {
      throw new UnitWaitError(
        `Timed out after ${timeoutMs / 1000} s waiting for compute unit ${this.id}; it is ${record!.state}`,
        [record!]
      );
    }
    return record!.state;
  }

  /**
   * The function's value, or {exitCode, stdout, stderr} of an executable, once Done. A Failed or
   * Canceled unit rejects with a ComputeUnitError (the error's name, message and remote stack).
   */
  async result(options: { timeoutMs?: number } = {}): Promise<T> {
    await this.wait(options);
    if (this.current.state !== 'Done') throw new ComputeUnitError(this.current, this.current.error);
    const outcome = await this.backend.result(this.current);
    if (outcome.kind === 'value') return outcome.value as T;
    const { exitCode, stdout, stderr } = outcome;
    return { exitCode, stdout, stderr } as T;
  }

  async cancel(): Promise<void> {
    this.current = await this.backend.cancel(this.current);
  }

  stdout(): Promise<string> {
    return this.backend.output(this.current, 'stdout');
  }

  stderr(): Promise<string> {
    return this.backend.output(this.current, 'stderr');
  }

  toJSON(): UnitRecord {
    return this.current;
  }
}
