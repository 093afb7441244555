import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { KafkaSource } from '../kafka/tls.js';
import type { ResourceProcess } from '../plugin.js';

/**
 * A Python function for Dask's workers: `"package.module:function"` (importable on the workers)
 * or its source and name, e.g. `{ code: 'def square(x):\n    return x * x', name: 'square' }`.
 */
export type PythonFunction = string | { code: string; name: string };

/** A task's result on the cluster, until gathered (or released). */
export interface DaskFuture {
  readonly key: string;
}

export interface DaskWorkerInfo {
  address: string;
  name: string;
  nthreads: number;
  memoryLimit: number;
}

export interface DaskClusterInfo {
  address: string;
  workers: DaskWorkerInfo[];
}

/** What consumeKafka read and what each batch's task returned. */
export interface KafkaConsumption<R> {
  messages: number;
  batches: number;
  results: R[];
}

/** An exception raised in Python (on a worker, or by the client), with its traceback. */
export class DaskPythonError extends Error {
  constructor(
    readonly pythonType: string,
    message: string,
    readonly traceback: string
  ) {
    super(`${pythonType}: ${message}`);
    this.name = 'DaskPythonError';
  }
}

interface Answer {
  id: number | null;
  ok: boolean;
  value?: unknown;
  error?: { type: string; message: string; traceback: string };
}

/**
 * The context of a Dask pilot: a distributed.Client in a Python bridge process, authenticated
 * with the pilot's client certificate. Results come back as JSON values.
 */
export class DaskContext {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  private ended: Error | undefined;

  private constructor(
    private readonly bridge: ResourceProcess,
    readonly schedulerAddress: string
  ) {}

  /**
   * Talks to a bridge started as `argv` (by `start`: on the resource, or here) and resolves once
   * its client is connected.
   */
  static async open(options: {
    argv: readonly string[];
    schedulerAddress: string;
    start?: (argv: readonly string[]) => Promise<ResourceProcess>;
  }): Promise<DaskContext> {
    const { argv, schedulerAddress } = options;
    const bridge = await (options.start ?? startHere)(argv);
    const context = new DaskContext(bridge, schedulerAddress);
    // A bridge that ends is reported by its exit (below), not by a write into its closed input.
    bridge.stdin.on('error', () => undefined);
    let stderr = '';
    bridge.stderr.setEncoding('utf8');
    bridge.stderr.on('data', (text: string) => {
      // Only the end is kept: it holds the traceback of a bridge that stopped.
      stderr = (stderr + text).slice(-8_000);
    });
    const ready = new Promise<void>((resolve, reject) => {
      createInterface({ input: bridge.stdout }).on('line', line => {
        const answer = JSON.parse(line) as Answer;
        if (answer.id === null) resolve();
        else context.settle(answer);
      });
      void bridge.exited.then(({ code, signal }) => {
        const tail = stderr.trim().split('\n').slice(-6).join('\n');
        const error = new Error(
          `The Dask bridge to ${schedulerAddress} ended (${signal ?? `exit code ${String(code)}`})${tail !== '' ? `: ${tail}` : ''}`
        );
        context.end(error);
        reject(error);
      });
    });
    try {
      await ready;
    } catch (error) {
      bridge.kill();
      throw error;
    }
    bridge.hold?.(false);
    return context;
  }

  /** The scheduler's address and its workers. */
  info(): Promise<DaskClusterInfo> {
    return this.request('info', {}) as Promise<DaskClusterInfo>;
  }

  /** Runs `fn(...args)` on a worker; args and the result travel as JSON. */
  async submit(fn: PythonFunction, ...args: unknown[]): Promise<DaskFuture> {
    return { key: (await this.request('submit', { function: fn, args })) as string };
  }

  /** Runs `fn(item)` for each item, as one task each. */
  async map(fn: PythonFunction, items: readonly unknown[]): Promise<DaskFuture[]> {
    const keys = (await this.request('map', { function: fn, items })) as string[];
    return keys.map(key => ({ key }));
  }

  /** The results of `futures`, in order; a task's Python exception rejects with its traceback. */
  gather<T = unknown>(futures: readonly DaskFuture[]): Promise<T[]> {
    return this.request('gather', { futures: futures.map(future => future.key) }) as Promise<T[]>;
  }

  /**
   * Reads a Kafka topic from its beginning in the bridge and runs `fn(values)` on the cluster for
   * each batch of message values (as text), until `maxMessages` were read or none arrived for
   * `idleSeconds` (default 10). The Kafka pilot's TLS files are read where the bridge runs: a
   * Kafka pilot on the same resource.
   */
  consumeKafka<R = unknown>(options: {
    source: KafkaSource;
    topic: string;
    fn: PythonFunction;
    batchSize?: number;
    maxMessages?: number;
    idleSeconds?: number;
  }): Promise<KafkaConsumption<R>> {
    const { source, fn, ...rest } = options;
    return this.request('consumeKafka', {
      ...rest,
      function: fn,
      bootstrapServers: source.bootstrapServers,
      tls: source.tls ?? null
    }) as Promise<KafkaConsumption<R>>;
  }

  /** Lets the cluster forget results no longer needed. */
  async release(futures: readonly DaskFuture[]): Promise<void> {
    await this.request('release', { futures: futures.map(future => future.key) });
  }

  /** Ends the bridge (its client disconnects); pending calls reject. */
  async close(): Promise<void> {
    if (this.ended !== undefined) return;
    this.bridge.stdin.end();
    const timer = setTimeout(() => this.bridge.kill(), 10_000);
    await this.bridge.exited;
    clearTimeout(timer);
  }

  private request(op: string, fields: Record<string, unknown>): Promise<unknown> {
    if (this.ended !== undefined) return Promise.reject(this.ended);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) this.bridge.hold?.(true);
      this.bridge.stdin.write(`${JSON.stringify({ id, op, ...fields })}\n`);
    });
  }

  private settle(answer: Answer): void {
    const waiting = this.pending.get(answer.id!);
    if (waiting === undefined) return;
    this.pending.delete(answer.id!);
    if (this.pending.size === 0) this.bridge.hold?.(false);
    if (answer.ok) waiting.resolve(answer.value);
    else {
      const { type, message, traceback } = answer.error!;
      waiting.reject(new DaskPythonError(type, message, traceback));
    }
  }

  private end(error: Error): void {
    this.ended = error;
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
  }
}

/**
 * The bridge as a child of this process. An idle one does not keep this process alive (it ends
 * when its input closes); one with calls in flight does, as any pending I/O would.
 */
function startHere(argv: readonly string[]): Promise<ResourceProcess> {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    child.once('error', error =>
      reject(new Error(`Cannot start the Dask bridge with ${argv[0]!}: ${error.message}`))
    );
    child.once('spawn', () =>
      resolve({
        stdin: child.stdin,
        stdout: child.stdout,
        stderr: child.stderr,
        exited: new Promise(done => child.once('close', (code, signal) => done({ code, signal }))),
        kill: () => child.kill('SIGKILL'),
        hold: hold => {
          // The pipes are sockets, which can be unref'd like the child.
          const pipes = [child.stdin, child.stdout, child.stderr] as unknown as Socket[];
          for (const handle of [child, ...pipes]) {
            if (hold) handle.ref();
            else handle.unref();
          }
        }
      })
    );
  });
}
