import { parentPort, workerData } from 'node:worker_threads';
import { SliceReconstructor } from '../reconstructor.js';
import type { SliceWorkerData, SliceWorkerMessage } from './messages.js';

/** A worker thread that reconstructs runs of slices claimed from a shared counter. */
const port = parentPort;
if (port === null) throw new Error('slice-worker runs only as a worker thread');
const post = (message: SliceWorkerMessage) => port.postMessage(message);

try {
  const data = workerData as SliceWorkerData;
  const reconstructor = await SliceReconstructor.create(
    { angles: data.angles, pixels: data.pixels },
    data.options
  );
  const stack = {
    data: new Float32Array(data.sinograms),
    slices: data.slices,
    angles: data.angles.length,
    pixels: data.pixels
  };
  const images = new Float32Array(data.images);
  const next = new Int32Array(data.next);
  for (;;) {
    const first = Atomics.add(next, 0, data.chunk);
    if (first >= data.slices) break;
    const count = Math.min(data.chunk, data.slices - first);
    reconstructor.reconstructRange(stack, data.centers, images, first, count);
    post({ kind: 'progress', slices: count });
  }
  post({ kind: 'done' });
} catch (error) {
  const failure = error instanceof Error ? error : new Error(String(error));
  post({ kind: 'error', name: failure.name, message: failure.message, stack: failure.stack });
}
