import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ResolvedOptions } from '../options.js';
import type { SinogramStack } from '../types.js';
import type { SliceWorkerData, SliceWorkerMessage } from './messages.js';

/** The compiled worker, also when this module runs from source under a test runner. */
function sliceWorkerEntry(): string {
  const beside = fileURLToPath(new URL('./slice-worker.js', import.meta.url));
  if (existsSync(beside)) return beside;
  const compiled = beside.replace(/([/\\])src([/\\])recon([/\\])/, '$1dist$2recon$3');
  if (existsSync(compiled)) return compiled;
  throw new Error(`The reconstruction worker is not built (${compiled}); run "npx tsc -b" in lib`);
}

export interface PoolRun {
  readonly threads: number;
  readonly onSlices?: (slices: number) => void;
  readonly signal?: AbortSignal;
}

/**
 * Reconstructs a block of slices on `threads` worker threads sharing the input and output
 * memory. Rejects with the first worker's error (its stack kept) or the abort reason; every
 * worker is terminated before the promise settles, so nothing outlives the call.
 */
export async function reconstructInWorkers(
  stack: SinogramStack,
  angles: Float32Array,
  centers: Float64Array,
  options: ResolvedOptions,
  run: PoolRun
): Promise<Float32Array> {
  const sinograms = new SharedArrayBuffer(stack.data.byteLength);
  new Float32Array(sinograms).set(stack.data);
  const images = new SharedArrayBuffer(stack.slices * options.size * options.size * 4);
  const data: SliceWorkerData = {
    angles,
    pixels: stack.pixels,
    slices: stack.slices,
    options,
    centers,
    sinograms,
    images,
    next: new SharedArrayBuffer(4),
    chunk: 2
  };
  const entry = sliceWorkerEntry();
  const workers = Array.from(
    { length: Math.min(run.threads, Math.ceil(stack.slices / data.chunk)) },
    () => new Worker(entry, { workerData: data })
  );
  try {
    await new Promise<void>((resolve, reject) => {
      let running = workers.length;
      const abort = () => reject(run.signal?.reason ?? new Error('reconstruction aborted'));
      if (run.signal?.aborted === true) return abort();
      run.signal?.addEventListener('abort', abort, { once: true });
      const settle = (error?: Error) => {
        run.signal?.removeEventListener('abort', abort);
        if (error === undefined) resolve();
        else reject(error);
      };
      for (const worker of workers) {
        worker.on('message', (message: SliceWorkerMessage) => {
          if (message.kind === 'progress') run.onSlices?.(message.slices);
          else if (message.kind === 'error') {
            const error = new Error(message.message);
            error.name = message.name;
            if (message.stack !== undefined) error.stack = message.stack;
            settle(error);
          } else if (--running === 0) settle();
        });
        worker.on('error', error => settle(error));
        worker.on('exit', code => {
          if (code !== 0) settle(new Error(`a reconstruction worker exited with code ${code}`));
        });
      }
    });
  } finally {
    await Promise.all(workers.map(worker => worker.terminate()));
  }
  // A private copy: callers may transfer or detach it, which shared memory does not allow.
  return new Float32Array(images).slice();
}
