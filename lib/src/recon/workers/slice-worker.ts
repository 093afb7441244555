import { parentPort } from 'node:worker_threads';
import { adoptSystemMatrix } from '../projector/index.js';
import { SliceReconstructor } from '../reconstructor.js';
import type { SliceJob, SliceWorkerMessage } from './messages.js';

/**
 * A pooled worker thread: for each job it reconstructs runs of slices claimed from the job's
 * shared counter. It stays up between jobs, so GridRec plans and system matrices are reused.
 */
const port = parentPort;
if (port === null) throw new Error('slice-worker runs only as a worker thread');
const post = (message: SliceWorkerMessage) => port.postMessage(message);

async function run(job: SliceJob): Promise<void> {
  for (const matrix of job.matrices) adoptSystemMatrix(matrix);
  const reconstructor = await SliceReconstructor.create(
    { angles: job.angles, pixels: job.pixels },
    job.options
  );
  const stack = {
    data: new Float32Array(job.sinograms),
    slices: job.slices,
    angles: job.angles.length,
    pixels: job.pixels
  };
  const images = new Float32Array(job.images);
  const next = new Int32Array(job.next);
  for (;;) {
    const first = Atomics.add(next, 0, job.chunk);
    if (first >= job.slices) break;
    const count = Math.min(job.chunk, job.slices - first);
    reconstructor.reconstructRange(stack, job.centers, images, first, count);
    post({ kind: 'progress', id: job.id, slices: count });
  }
}

port.on('message', (job: SliceJob) => {
  run(job).then(
    () => post({ kind: 'done', id: job.id }),
    (error: unknown) => {
      const failure = error instanceof Error ? error : new Error(String(error));
      post({
        kind: 'error',
        id: job.id,
        name: failure.name,
        message: failure.message,
        stack: failure.stack
      });
    }
  );
});
