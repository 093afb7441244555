import { z } from 'zod';
import type { ProgressListener } from '../frameworks/plugin.js';
import {
  pilotIdSchema,
  problemsFromIssues,
  summarize,
  ValidationError,
  type ControlMessage,
  type ControlReply,
  type ControlRequest,
  type PilotDescriptionInput,
  type PilotRecord,
  type PilotSummary,
  type ValidationProblem
} from '../protocol/index.js';

/**
 * What a control session needs from the pilot service. The real one is the process's
 * PilotComputeService; tests pass a fake. Kept structural so this file stays pure logic.
 */
export interface ControlService {
  createPilot(
    input: PilotDescriptionInput,
    options?: { onProgress?: ProgressListener }
  ): Promise<{ readonly record: PilotRecord }>;
  getPilot(id: string): Promise<{ readonly record: PilotRecord; cancel(): Promise<void> }>;
  listPilots(): Promise<readonly { readonly record: PilotRecord }[]>;
  watch(listener: (records: PilotRecord[]) => void): { close(): void };
}

/**
 * requestId of replies that answer no request: failures of the session's own work (the
 * snapshot on open, a request that could not be read). The panel shows them as general errors.
 */
export const UNSOLICITED_REQUEST_ID = '';

const requestSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('list'), requestId: z.string().min(1) }),
  z.object({
    kind: z.literal('create'),
    requestId: z.string().min(1),
    // Validated by the service itself, which names every bad key.
    description: z.record(z.string(), z.unknown())
  }),
  z.object({ kind: z.literal('cancel'), requestId: z.string().min(1), pilotId: pilotIdSchema })
]);

/** Reads a comm message as a ControlRequest, or throws a ValidationError naming what is wrong. */
export function parseControlRequest(data: unknown): ControlRequest {
  const result = requestSchema.safeParse(data);
  if (!result.success) {
    throw new ValidationError('control request', problemsFromIssues(data, result.error.issues));
  }
  return result.data as ControlRequest;
}

/** The error part of a failed reply: name, message and, for bad input, every problem. */
export function describeError(error: unknown): {
  name: string;
  message: string;
  problems?: ValidationProblem[];
} {
  if (error instanceof Error) {
    const problems = (error as { problems?: unknown }).problems;
    return {
      name: error.name,
      message: error.message,
      ...(Array.isArray(problems) ? { problems: problems as ValidationProblem[] } : {})
    };
  }
  return { name: 'Error', message: String(error) };
}

function requestIdOf(data: unknown): string {
  if (data !== null && typeof data === 'object') {
    const id = (data as { requestId?: unknown }).requestId;
    if (typeof id === 'string') return id;
  }
  return UNSOLICITED_REQUEST_ID;
}

/**
 * One panel's conversation with the kernel over one comm: answers requests and pushes a
 * snapshot of every pilot on open and whenever the registry changes. No I/O of its own:
 * `send` is the comm, `service` the pilot service.
 */
export class ControlSession {
  private watcher: { close(): void } | undefined;
  private lastSnapshotKey: string | undefined;
  private isClosed = false;

  constructor(
    private readonly service: ControlService,
    private readonly send: (message: ControlMessage) => void,
    private readonly now: () => Date = () => new Date()
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  /** Sends the first snapshot and starts following registry changes. */
  async open(): Promise<void> {
    this.watcher = this.service.watch(records => this.pushSnapshot(records.map(summarize)));
    try {
      await this.refreshSnapshot();
    } catch (error) {
      this.reply({
        kind: 'reply',
        requestId: UNSOLICITED_REQUEST_ID,
        ok: false,
        error: describeError(error)
      });
    }
  }

  /** Handles one comm message; every request gets exactly one reply. */
  async handle(data: unknown): Promise<void> {
    let request: ControlRequest;
    try {
      request = parseControlRequest(data);
    } catch (error) {
      this.reply({
        kind: 'reply',
        requestId: requestIdOf(data),
        ok: false,
        error: describeError(error)
      });
      return;
    }
    try {
      this.reply(await this.answer(request));
    } catch (error) {
      this.reply({
        kind: 'reply',
        requestId: request.requestId,
        ok: false,
        error: describeError(error)
      });
    }
  }

  /** Stops following the registry; nothing is sent afterwards. */
  close(): void {
    this.isClosed = true;
    this.watcher?.close();
    this.watcher = undefined;
  }

  private async answer(request: ControlRequest): Promise<ControlReply> {
    switch (request.kind) {
      case 'list': {
        const pilots = await this.currentSummaries();
        return { kind: 'reply', requestId: request.requestId, ok: true, pilots };
      }
      case 'create': {
        const pilot = await this.service.createPilot(request.description, {
          onProgress: progress =>
            this.emit({ kind: 'progress', requestId: request.requestId, ...progress })
        });
        // Don't wait for the watcher: the panel should see the new pilot at once.
        await this.refreshSnapshot();
        return {
          kind: 'reply',
          requestId: request.requestId,
          ok: true,
          pilot: summarize(pilot.record)
        };
      }
      case 'cancel': {
        const pilot = await this.service.getPilot(request.pilotId);
        await pilot.cancel();
        await this.refreshSnapshot();
        return {
          kind: 'reply',
          requestId: request.requestId,
          ok: true,
          pilot: summarize(pilot.record)
        };
      }
    }
  }

  private async currentSummaries(): Promise<PilotSummary[]> {
    const pilots = await this.service.listPilots();
    return pilots.map(pilot => summarize(pilot.record));
  }

  private async refreshSnapshot(): Promise<void> {
    this.pushSnapshot(await this.currentSummaries());
  }

  /** Sends a snapshot unless it says exactly what the previous one said. */
  private pushSnapshot(pilots: PilotSummary[]): void {
    const sorted = [...pilots].sort(
      (a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id)
    );
    const key = JSON.stringify(sorted);
    if (key === this.lastSnapshotKey) return;
    this.lastSnapshotKey = key;
    this.emit({ kind: 'snapshot', pilots: sorted, at: this.now().toISOString() });
  }

  private reply(reply: ControlReply): void {
    this.emit(reply);
  }

  /** The panel that asked may be gone (comm closed): then there is nobody to tell. */
  private emit(message: ControlMessage): void {
    if (!this.isClosed) this.send(message);
  }
}
