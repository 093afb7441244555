import { spawn, type ChildProcess } from 'node:child_process';
import { open } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { finished } from 'node:stream/promises';
import tls from 'node:tls';
import { Worker } from 'node:worker_threads';
import { isTerminal, type PilotState, type UnitError, type UnitRecord } from '../protocol/index.js';
import { AGENT_TLS_OPTIONS, readFrames, writeFrame } from './channel.js';
import type {
  AgentReplies,
  AgentRequest,
  AgentStatus,
  ReplyFrame,
  RequestFrame,
  UnitResult,
  UnitSubmission
} from './messages.js';
import { UnitStore, type FunctionOutcome } from './unit-store.js';
import { workerEntry } from '../entry-points/roles.js';

/** Time a cancelled process gets between SIGTERM and SIGKILL. */
const PROCESS_CANCEL_GRACE_MS = 5_000;

interface Entry {
  record: UnitRecord;
  submission: UnitSubmission;
  /** Stops a running unit (terminate the worker, signal the process). */
  stop?: () => void;
  cancelRequested?: boolean;
  /** Record writes of this unit, one after the other. */
  writes: Promise<void>;
}

interface Waiter {
  ids: string[];
  done: () => void;
}

export interface AgentOptions {
  pilotId: string;
  workDir: string;
  /** Name of the node this agent runs on (recorded with each unit). */
  node: string;
  /** Cores this agent may fill with units. */
  cores: number;
  secret: Buffer;
  /** Address to listen on (the node's address reachable by the client). */
  host: string;
  log?: (message: string) => void;
}

/**
 * The pilot agent: listens on a TLS-PSK channel, runs compute units within the node's cores
 * (function units in a worker thread each, executables as processes) and queues the rest.
 */
export class PilotAgent {
  readonly store: UnitStore;
  private readonly entries = new Map<string, Entry>();
  private readonly queue: Entry[] = [];
  private readonly waiters = new Set<Waiter>();
  private readonly sockets = new Set<tls.TLSSocket>();
  private usedCores = 0;
  private server: tls.Server | undefined;
  private readonly log: (message: string) => void;
  /** Handshakes refused (wrong secret or identity). */
  refusedHandshakes = 0;

  constructor(private readonly options: AgentOptions) {
    this.store = new UnitStore(options.workDir);
    this.log = options.log ?? (message => process.stderr.write(`${message}\n`));
  }

  async start(): Promise<{ host: string; port: number }> {
    const { pilotId, secret } = this.options;
    const server = tls.createServer({
      ...AGENT_TLS_OPTIONS,
      pskCallback: (_socket: tls.TLSSocket, identity: string) =>
        identity === pilotId ? secret : null
    } as tls.TlsOptions);
    server.on('tlsClientError', (error, socket) => {
      this.refusedHandshakes += 1;
      this.log(`agent: refused a connection (${error.message})`);
      socket.destroy();
    });
    server.on('secureConnection', socket => this.serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, this.options.host, () => resolve());
    });
    this.server = server;
    const address = server.address() as AddressInfo;
    return { host: this.options.host, port: address.port };
  }

  status(): AgentStatus {
    const running = [...this.entries.values()].filter(e => e.record.state === 'Running').length;
    return {
      node: this.options.node,
      cores: this.options.cores,
      load: running + this.queue.length,
      running
    };
  }

  /** Cancels what runs or waits, waits until those units have ended, then closes the channel. */
  async close(): Promise<void> {
    const open = [...this.entries.values()].filter(entry => !isTerminal(entry.record.state));
    for (const entry of open) this.cancel(entry.record.id, 'the pilot agent stopped');
    await this.waitFor(
      open.map(entry => entry.record.id),
      PROCESS_CANCEL_GRACE_MS + 2_000
    );
    await Promise.all([...this.entries.values()].map(entry => entry.writes));
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>(resolve => server.close(() => resolve()));
  }

  private serve(socket: tls.TLSSocket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', error => this.log(`agent: connection error: ${error.message}`));
    readFrames(socket, message => {
      const { requestId, request } = message as RequestFrame;
      this.handle(request).then(
        value => this.reply(socket, { requestId, ok: true, value }),
        (error: unknown) => {
          const {
            name,
            message: text,
            stack
          } = error instanceof Error ? error : new Error(String(error));
          this.reply(socket, {
            requestId,
            ok: false,
            error: { name, message: text, ...(stack !== undefined ? { stack } : {}) }
          });
        }
      );
    });
  }

  private reply(socket: tls.TLSSocket, frame: ReplyFrame): void {
    if (!socket.destroyed) writeFrame(socket, frame);
  }

  private async handle(request: AgentRequest): Promise<AgentReplies[AgentRequest['op']]> {
    switch (request.op) {
      case 'status':
        return this.status();
      case 'submit':
        return { record: await this.submit(request.unit), load: this.status().load };
      case 'get':
        return this.records(request.ids);
      case 'wait':
        return this.waitFor(request.ids, request.timeoutMs);
      case 'result':
        return this.result(request.id);
      case 'output':
        return this.store.readOutput(this.known(request.id).id, request.stream);
      case 'cancel':
        return this.cancel(request.id, 'canceled by the client');
    }
  }

  private known(id: string): UnitRecord {
    const entry = this.entries.get(id);
    if (entry === undefined) {
      throw new Error(
        `No compute unit ${id} on node ${this.options.node} of ${this.options.pilotId}`
      );
    }
    return entry.record;
  }

  private async submit(unit: UnitSubmission): Promise<UnitRecord> {
    if (this.entries.has(unit.id)) throw new Error(`Compute unit ${unit.id} exists already`);
    const cores = unit.kind === 'function' ? unit.cores : unit.description.cores;
    if (cores > this.options.cores) {
      throw new RangeError(
        `cores = ${cores}, expected at most ${this.options.cores} (the cores of node ${this.options.node})`
      );
    }
    const name = unit.kind === 'function' ? unit.name : unit.description.name;
    const record: UnitRecord = {
      format: 1,
      id: unit.id,
      pilotId: this.options.pilotId,
      kind: unit.kind,
      ...(name !== undefined ? { name } : {}),
      node: this.options.node,
      cores,
      state: 'Pending',
      submittedAt: unit.submittedAt
    };
    await this.store.create(record);
    const entry: Entry = { record, submission: unit, writes: Promise.resolve() };
    this.entries.set(unit.id, entry);
    this.queue.push(entry);
    this.schedule();
    return { ...entry.record };
  }

  private records(ids: string[] | undefined): UnitRecord[] {
    const entries =
      ids === undefined
        ? [...this.entries.values()]
        : ids.flatMap(id => this.entries.get(id) ?? []);
    return entries.map(entry => ({ ...entry.record }));
  }

  private waitFor(ids: string[], timeoutMs: number): Promise<UnitRecord[]> {
    for (const id of ids) this.known(id);
    const allEnded = (): boolean => ids.every(id => isTerminal(this.known(id).state));
    if (allEnded()) return Promise.resolve(this.records(ids));
    return new Promise(resolve => {
      const waiter: Waiter = {
        ids,
        done: () => {
          if (!allEnded()) return;
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(this.records(ids));
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        resolve(this.records(ids));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  private async result(id: string): Promise<UnitResult> {
    const record = this.known(id);
    if (record.kind === 'executable') {
      return {
        kind: 'process',
        exitCode: record.exitCode ?? null,
        signal: record.signal ?? null,
        stdout: await this.store.readOutput(id, 'stdout'),
        stderr: await this.store.readOutput(id, 'stderr')
      };
    }
    const outcome = await this.store.readOutcome(id);
    if (outcome === undefined || !outcome.ok) {
      throw new Error(`Compute unit ${id} has no value (it is ${record.state})`);
    }
    return { kind: 'value', value: outcome.value };
  }

  private cancel(id: string, reason: string): UnitRecord {
    const record = this.known(id);
    const entry = this.entries.get(id)!;
    if (isTerminal(record.state)) return { ...record };
    const queued = this.queue.indexOf(entry);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      this.finish(entry, 'Canceled', { reason }, false);
    } else {
      entry.cancelRequested = true;
      entry.record.reason = reason;
      entry.stop?.();
    }
    return { ...entry.record };
  }

  /** Starts queued units in order while their cores fit. */
  private schedule(): void {
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (this.usedCores + next.record.cores > this.options.cores) return;
      this.queue.shift();
      this.usedCores += next.record.cores;
      this.update(next, { state: 'Running', startedAt: new Date().toISOString() });
      try {
        if (next.submission.kind === 'function') this.runFunction(next, next.submission);
        else this.runProcess(next, next.submission);
      } catch (error) {
        this.finish(next, 'Failed', { error: errorOf(error), reason: (error as Error).message });
      }
    }
  }

  private update(entry: Entry, patch: Partial<UnitRecord>): void {
    Object.assign(entry.record, patch);
    const snapshot = { ...entry.record };
    entry.writes = entry.writes
      .then(() => this.store.write(snapshot))
      .catch((error: unknown) =>
        this.log(`agent: cannot record unit ${snapshot.id}: ${(error as Error).message}`)
      );
  }

  /** Ends a unit: record, metrics line, waiters; frees its cores for the queue. */
  private finish(
    entry: Entry,
    state: Extract<PilotState, 'Done' | 'Failed' | 'Canceled'>,
    patch: Partial<UnitRecord>,
    held = true
  ): void {
    if (isTerminal(entry.record.state)) return;
    if (entry.cancelRequested === true && state !== 'Done') {
      // Canceled, for the reason given with the cancel (not the signal it took).
      state = 'Canceled';
      patch = { ...patch, reason: entry.record.reason ?? 'canceled' };
      delete patch.error;
    }
    this.update(entry, { ...patch, state, finishedAt: new Date().toISOString() });
    const snapshot = { ...entry.record };
    entry.writes = entry.writes
      .then(() => this.store.appendMetrics(snapshot))
      .catch((error: unknown) =>
        this.log(`agent: cannot write metrics of ${snapshot.id}: ${(error as Error).message}`)
      );
    delete entry.stop;
    if (held) this.usedCores -= entry.record.cores;
    // Waiters hear of the end once it is on disk, so a reader in another process agrees.
    void entry.writes.then(() => {
      for (const waiter of [...this.waiters]) waiter.done();
    });
    this.schedule();
  }

  private runFunction(entry: Entry, unit: Extract<UnitSubmission, { kind: 'function' }>): void {
    const program = workerEntry('function-worker');
    const worker = new Worker(program.script, {
      argv: program.argv,
      workerData: {
        unitId: unit.id,
        source: unit.source,
        args: unit.args,
        unitDir: this.store.dirOf(unit.id)
      },
      stdout: true,
      stderr: true
    });
    const captured = this.captureOutput(unit.id, worker.stdout, worker.stderr);
    let outcome: FunctionOutcome | undefined;
    worker.on('message', (message: FunctionOutcome) => {
      outcome = message;
      // The value is in: the worker need not finish its timers or handles.
      void worker.terminate();
    });
    worker.on('error', error => {
      outcome ??= { ok: false, error: errorOf(error) };
    });
    worker.on('exit', code => {
      const ended = outcome ?? {
        ok: false as const,
        error: entry.cancelRequested
          ? { name: 'CanceledError', message: 'canceled' }
          : {
              name: 'Error',
              message: `the unit's worker exited with code ${code} before returning`
            }
      };
      // Done only once its output is in the files and its value is stored.
      entry.writes = entry.writes
        .then(() => captured)
        .then(() => this.store.writeOutcome(unit.id, ended));
      if (ended.ok) this.finish(entry, 'Done', {});
      else
        this.finish(entry, 'Failed', {
          error: ended.error,
          reason: `${ended.error.name}: ${ended.error.message}`
        });
    });
    entry.stop = () => void worker.terminate();
  }

  private async captureOutput(
    id: string,
    stdout: NodeJS.ReadableStream,
    stderr: NodeJS.ReadableStream
  ): Promise<void> {
    const files: Promise<void>[] = [];
    for (const [stream, name] of [
      [stdout, 'stdout'],
      [stderr, 'stderr']
    ] as const) {
      const file = await open(this.store.outputPath(id, name), 'a', 0o600);
      const writer = file.createWriteStream();
      stream.pipe(writer);
      files.push(finished(writer));
    }
    await Promise.all(files);
  }

  private runProcess(entry: Entry, unit: Extract<UnitSubmission, { kind: 'executable' }>): void {
    const { description } = unit;
    const dir = this.store.dirOf(unit.id);
    let child: ChildProcess | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    entry.stop = () => {
      if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child?.kill('SIGKILL'), PROCESS_CANCEL_GRACE_MS);
    };
    void (async () => {
      const stdout = await open(this.store.outputPath(unit.id, 'stdout'), 'a', 0o600);
      const stderr = await open(this.store.outputPath(unit.id, 'stderr'), 'a', 0o600);
      try {
        // No shell: the executable gets its arguments as they are.
        child = spawn(description.executable, description.arguments, {
          cwd: description.workingDirectory ?? dir,
          // The unit learns its node's name as the pilot knows it (hostnames may differ or repeat).
          env: { ...process.env, PILOT_STREAMING_NODE: this.options.node, ...description.env },
          stdio: ['ignore', stdout.fd, stderr.fd]
        });
        // Listeners before any await: a quick process may end before the files are closed.
        child.once('error', error =>
          this.finish(entry, 'Failed', {
            error: errorOf(error),
            reason: `cannot run ${description.executable}: ${error.message}`
          })
        );
        child.once('exit', (code, signal) => {
          clearTimeout(killTimer);
          // A cancel of the whole pilot signals its process group: the unit may see the signal
          // before the agent's own handler has run. Give that handler a moment to mark it so
          // the unit is recorded Canceled, not Failed.
          if (signal !== null && entry.cancelRequested !== true) {
            setTimeout(() => exited(code, signal), 300);
          } else {
            exited(code, signal);
          }
        });
        const exited = (code: number | null, signal: NodeJS.Signals | null): void => {
          const patch = { exitCode: code, signal };
          if (code === 0) this.finish(entry, 'Done', patch);
          else
            this.finish(entry, 'Failed', {
              ...patch,
              reason:
                signal !== null
                  ? `${description.executable} was killed by ${signal}`
                  : `${description.executable} exited with code ${code}`
            });
        };
        if (entry.cancelRequested === true) entry.stop?.();
      } finally {
        await stdout.close();
        await stderr.close();
      }
    })().catch((error: unknown) =>
      this.finish(entry, 'Failed', { error: errorOf(error), reason: (error as Error).message })
    );
  }
}

function errorOf(error: unknown): UnitError {
  if (error instanceof Error) {
    return {
      name: error.name,
      message: error.message,
      ...(error.stack !== undefined ? { stack: error.stack } : {})
    };
  }
  return { name: 'Error', message: String(error) };
}
