import { availableParallelism } from 'node:os';
import { findCenterWithGridrec, type FoundCenter } from './auto-center.js';
import { ReconInputError } from './errors.js';
import { resolveOptions } from './options.js';
import type { ReconstructOptions, ResolvedOptions } from './options.js';
import { SliceReconstructor } from './reconstructor.js';
import { isFloat32Array, type ImageStack, type SinogramStack } from './types.js';
import { reconstructInWorkers, sliceChunk } from './workers/slice-pool.js';

/**
 * Reconstructed slices and the rotation centre each was reconstructed with. Slices made on
 * worker threads stay in the shared memory the workers wrote them to (no copy): `data` can be
 * posted to another thread but not transferred.
 */
export interface Reconstruction extends ImageStack {
  readonly centers: Float64Array;
  /** Set when `center: 'auto'` found the centre. */
  readonly foundCenter?: FoundCenter;
}

export interface RunControl {
  /** Called as slices finish: slices done so far and in all. */
  readonly onProgress?: (done: number, total: number) => void;
  readonly signal?: AbortSignal;
}

/** Checks that the stack and angles agree, naming what disagrees. */
export function checkSinograms(stack: SinogramStack, angles: Float32Array): void {
  const { slices, pixels } = stack;
  for (const [key, value] of Object.entries({ slices, angles: stack.angles, pixels }))
    if (!Number.isInteger(value) || value < 1)
      throw new ReconInputError(
        `sinograms.${key} = ${JSON.stringify(value)}: expected a whole number ≥ 1`
      );
  if (!isFloat32Array(stack.data))
    throw new ReconInputError('sinograms.data: expected a Float32Array');
  const expected = slices * stack.angles * pixels;
  if (stack.data.length !== expected)
    throw new ReconInputError(
      `sinograms.data has ${stack.data.length} values: expected slices × angles × pixels = ${slices} × ${stack.angles} × ${pixels} = ${expected}`
    );
  if (!isFloat32Array(angles) || angles.length !== stack.angles)
    throw new ReconInputError(
      `angles has ${angles?.length ?? 'no'} values: expected ${stack.angles} (one per projection), as a Float32Array in radians`
    );
  const bad = angles.findIndex(angle => !Number.isFinite(angle));
  if (bad >= 0)
    throw new ReconInputError(
      `angles[${bad}] = ${angles[bad]}: expected a finite angle in radians`
    );
}

/** A rotation centre on a detector `pixels` wide. */
function checkCenter(value: unknown, pixels: number, key: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > pixels)
    throw new ReconInputError(
      `${key} = ${JSON.stringify(value)}: expected a rotation centre from 0 to ${pixels} (the detector width), or "auto"`
    );
  return value;
}

/**
 * One centre per slice from the `center` option (default: the detector's middle); `auto` finds
 * it on the middle slice and uses it for all.
 */
export async function resolveCenters(
  center: ReconstructOptions['center'],
  stack: SinogramStack,
  angles: Float32Array
): Promise<{ centers: Float64Array; found?: FoundCenter }> {
  const { slices, pixels } = stack;
  const checked = (value: unknown, key: string) => checkCenter(value, pixels, key);
  const same = (value: number) => ({ centers: new Float64Array(slices).fill(value) });
  if (center === undefined) return same(pixels / 2);
  if (center === 'auto') {
    const middle = Math.floor(slices / 2);
    const length = stack.angles * pixels;
    const sinogram = stack.data.subarray(middle * length, (middle + 1) * length);
    const found = await findCenterWithGridrec(sinogram, angles, pixels);
    return { ...same(found.center), found };
  }
  if (typeof center === 'object' && center !== null && typeof center.length === 'number') {
    if (center.length !== slices)
      throw new ReconInputError(
        `center has ${center.length} values: expected one per slice (${slices}) or a single number`
      );
    return {
      centers: Float64Array.from({ length: slices }, (_, s) => checked(center[s], `center[${s}]`))
    };
  }
  return same(checked(center, 'center'));
}

/**
 * Reconstructs a block of sinograms (slices × angles × pixels) with TomoPy's algorithms:
 * `reconstruct(sinograms, angles, {algorithm, filter, iterations, center})`. Blocks of more than
 * one slice run on worker threads over every core unless `threads: 1`. Bad input is refused
 * before any work starts, with the key, the value and what is expected.
 */
export async function reconstruct(
  sinograms: SinogramStack,
  angles: Float32Array,
  options: ReconstructOptions,
  control: RunControl = {}
): Promise<Reconstruction> {
  checkSinograms(sinograms, angles);
  const resolved = resolveOptions(options, sinograms.pixels);
  const threads =
    options.threads === undefined ? availableParallelism() : checkThreads(options.threads);
  const { centers, found } = await resolveCenters(options.center, sinograms, angles);
  const { slices } = sinograms;
  let done = 0;
  const onSlices = (count: number) => {
    done += count;
    control.onProgress?.(done, slices);
  };
  const useWorkers = threads > 1 && slices > sliceChunk(resolved);
  const data = useWorkers
    ? await reconstructInWorkers(sinograms, angles, centers, resolved, {
        threads,
        onSlices,
        signal: control.signal
      })
    : await reconstructHere(sinograms, angles, centers, resolved, onSlices, control.signal);
  return { data, slices, size: resolved.size, centers, foundCenter: found };
}

function checkThreads(threads: unknown): number {
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > 1024)
    throw new ReconInputError(`threads = ${JSON.stringify(threads)}: expected a whole number ≥ 1`);
  return threads;
}

/** In this thread, yielding to the event loop between slices so progress and aborts get through. */
async function reconstructHere(
  stack: SinogramStack,
  angles: Float32Array,
  centers: Float64Array,
  options: ResolvedOptions,
  onSlices: (count: number) => void,
  signal: AbortSignal | undefined
): Promise<Float32Array> {
  const reconstructor = await SliceReconstructor.create({ angles, pixels: stack.pixels }, options);
  const out = new Float32Array(stack.slices * options.size * options.size);
  for (let first = 0; first < stack.slices; first += 2) {
    signal?.throwIfAborted();
    const count = Math.min(2, stack.slices - first);
    reconstructor.reconstructRange(stack, centers, out, first, count, onSlices);
    await new Promise(resolve => setImmediate(resolve));
  }
  return out;
}

/** Reconstructs one sinogram at a time with what was precomputed for its geometry. */
export interface StreamingReconstructor {
  /** Image width and height. */
  readonly size: number;
  /** One sinogram (angles × pixels) → a new size × size image. */
  reconstruct(sinogram: Float32Array, center?: number): Float32Array;
  /**
   * `slices` sinograms (slices × angles × pixels) → slices × size × size images, with one centre.
   * GridRec does them two at a time, for about the price of one.
   */
  reconstructBlock(sinograms: Float32Array, slices: number, center?: number): Float32Array;
}

/**
 * The streaming case: one reconstructor per geometry, fed one sinogram (angles × pixels) at a
 * time; what the algorithm precomputes is kept between calls.
 */
export async function createReconstructor(
  angles: Float32Array,
  pixels: number,
  options: ReconstructOptions
): Promise<StreamingReconstructor> {
  if (!Number.isInteger(pixels) || pixels < 1)
    throw new ReconInputError(`pixels = ${JSON.stringify(pixels)}: expected a whole number ≥ 1`);
  if (!isFloat32Array(angles) || angles.length === 0)
    throw new ReconInputError(
      `angles: expected a Float32Array of the projection angles in radians, not ${Object.prototype.toString.call(angles)}`
    );
  // The rest of the geometry checked as that of a block of one slice.
  const oneSlice = new Float32Array(angles.length * pixels);
  checkSinograms({ data: oneSlice, slices: 1, angles: angles.length, pixels }, angles);
  if (
    options?.center === 'auto' ||
    (options?.center !== undefined && typeof options.center !== 'number')
  )
    throw new ReconInputError(
      `center = ${JSON.stringify(options.center)}: a streaming reconstructor takes one centre (a number); find it once with recon.findCenter`
    );
  const defaultCenter =
    options.center === undefined ? pixels / 2 : checkCenter(options.center, pixels, 'center');
  const resolved = resolveOptions(options, pixels);
  const reconstructor = await SliceReconstructor.create({ angles, pixels }, resolved);
  return {
    size: resolved.size,
    reconstruct(sinogram, center = defaultCenter) {
      if (!isFloat32Array(sinogram) || sinogram.length !== angles.length * pixels)
        throw new ReconInputError(
          `sinogram has ${sinogram?.length ?? 'no'} values: expected angles × pixels = ${angles.length} × ${pixels} as a Float32Array`
        );
      return reconstructor.reconstructSlice(sinogram, checkCenter(center, pixels, 'center'));
    },
    reconstructBlock(sinograms, slices, center = defaultCenter) {
      const length = angles.length * pixels;
      if (!Number.isInteger(slices) || slices < 1)
        throw new ReconInputError(
          `slices = ${JSON.stringify(slices)}: expected a whole number ≥ 1`
        );
      if (!isFloat32Array(sinograms) || sinograms.length !== slices * length)
        throw new ReconInputError(
          `sinograms have ${sinograms?.length ?? 'no'} values: expected slices × angles × pixels = ${slices} × ${angles.length} × ${pixels} as a Float32Array`
        );
      const checked = checkCenter(center, pixels, 'center');
      const out = new Float32Array(slices * resolved.size * resolved.size);
      const stack = { data: sinograms, slices, angles: angles.length, pixels };
      reconstructor.reconstructRange(stack, new Float64Array(slices).fill(checked), out, 0, slices);
      return out;
    }
  };
}
