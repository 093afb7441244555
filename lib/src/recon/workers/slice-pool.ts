import { Worker } from 'node:worker_threads';
import type { ResolvedOptions } from '../options.js';
import { systemMatrixFor } from '../projector/index.js';
import type { SinogramStack } from '../types.js';
import type { SliceJob, SliceWorkerMessage } from './messages.js';
import { workerEntry } from '../../entry-points/roles.js';

/** Idle workers are ended after this long, which frees their plans and matrices. */
const IDLE_MS = 30_000;

/**
 * Workers kept between calls (starting one and loading its WebAssembly costs more than
 * reconstructing a few slices). A worker is busy with one job at a time; an idle one does not
 * keep the process alive and is ended after IDLE_MS.
 */
const idle: Worker[] = [];
let idleTimer: NodeJS.Timeout | undefined;

function acquire(count: number): Worker[] {
  const taken = idle.splice(0, count);
  while (taken.length < count) {
    const entry = workerEntry('slice-worker');
    taken.push(new Worker(entry.script, { argv: entry.argv }));
  }
  for (const worker of taken) worker.ref();
  return taken;
}

function release(workers: readonly Worker[]): void {
  for (const worker of workers) {
    worker.removeAllListeners('message').removeAllListeners('error').removeAllListeners('exit');
    worker.unref();
    idle.push(worker);
  }
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => void endIdleWorkers(), IDLE_MS).unref();
}

/** Ends the idle workers now (they are started again when needed). */
export async function endIdleWorkers(): Promise<void> {
  clearTimeout(idleTimer);
  await Promise.all(idle.splice(0).map(worker => worker.terminate()));
}

/** The ray-driven algorithms share TomoPy's system matrix; GridRec and FBP need none. */
function usesSystemMatrix(options: ResolvedOptions): boolean {
  return options.algorithm === 'bp' || options.algorithm === 'mlem' || options.algorithm === 'sirt';
}

/** Slices a worker claims at once: GridRec does two in one pass, the others one at a time. */
export function sliceChunk(options: ResolvedOptions): number {
  return options.algorithm === 'gridrec' ? 2 : 1;
}

export interface PoolRun {
  readonly threads: number;
  readonly onSlices?: (slices: number) => void;
  readonly signal?: AbortSignal;
}

let nextJobId = 1;

/** The block in shared memory: as it is when it already lives there, else copied once. */
function sharedCopy(data: Float32Array): SharedArrayBuffer {
  if (
    data.buffer instanceof SharedArrayBuffer &&
    data.byteOffset === 0 &&
    data.byteLength === data.buffer.byteLength
  )
    return data.buffer;
  const shared = new SharedArrayBuffer(data.byteLength);
  new Float32Array(shared).set(data);
  return shared;
}

/**
 * Reconstructs a block of slices on `threads` pooled worker threads sharing the input and
 * output memory. Rejects with the first worker's error (its stack kept) or the abort reason;
 * the workers of a failed or aborted job are ended, not returned to the pool.
 */
export async function reconstructInWorkers(
  stack: SinogramStack,
  angles: Float32Array,
  centers: Float64Array,
  options: ResolvedOptions,
  run: PoolRun
): Promise<Float32Array> {
  run.signal?.throwIfAborted();
  const sinograms = sharedCopy(stack.data);
  const images = new SharedArrayBuffer(stack.slices * options.size * options.size * 4);
  const chunk = sliceChunk(options);
  const job: SliceJob = {
    id: nextJobId++,
    angles,
    pixels: stack.pixels,
    slices: stack.slices,
    options,
    centers,
    sinograms,
    images,
    next: new SharedArrayBuffer(4),
    chunk,
    matrices: usesSystemMatrix(options)
      ? [...new Set(centers)].map(center =>
          systemMatrixFor(angles, {
            pixels: stack.pixels,
            angles: angles.length,
            center,
            size: options.size
          })
        )
      : []
  };
  const workers = acquire(Math.min(run.threads, Math.ceil(stack.slices / chunk)));
  let failed = false;
  try {
    await new Promise<void>((resolve, reject) => {
      let running = workers.length;
      const fail = (error: unknown) => {
        failed = true;
        reject(error);
      };
      const abort = () => fail(run.signal?.reason ?? new Error('reconstruction aborted'));
      run.signal?.addEventListener('abort', abort, { once: true });
      const settle = (error?: Error) => {
        run.signal?.removeEventListener('abort', abort);
        if (error === undefined) resolve();
        else fail(error);
      };
      for (const worker of workers) {
        worker.on('message', (message: SliceWorkerMessage) => {
          if (message.id !== job.id) return;
          if (message.kind === 'progress') run.onSlices?.(message.slices);
          else if (message.kind === 'error') {
            const error = new Error(message.message);
            error.name = message.name;
            if (message.stack !== undefined) error.stack = message.stack;
            settle(error);
          } else if (--running === 0) settle();
        });
        worker.on('error', error => settle(error));
        worker.on('exit', code =>
          settle(new Error(`a reconstruction worker exited with code ${code}`))
        );
        worker.postMessage(job);
      }
    });
  } finally {
    if (failed) await Promise.all(workers.map(worker => worker.terminate()));
    else release(workers);
  }
  // Shared memory, handed over as it is: copying hundreds of megabytes would cost a tenth of
  // the time the workers saved. It cannot be transferred to another thread (only shared).
  return new Float32Array(images);
}
