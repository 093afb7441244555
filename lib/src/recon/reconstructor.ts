import { backprojection } from './backprojection.js';
import { fbp } from './fbp.js';
import { GridrecPlan } from './gridrec/gridrec.js';
import { mlem } from './mlem.js';
import type { ResolvedOptions } from './options.js';
import { sirt } from './sirt.js';
import type { SinogramStack } from './types.js';

/** Angles and detector width: what every slice of a block shares. */
export interface AcquisitionGeometry {
  readonly angles: Float32Array;
  readonly pixels: number;
}

/** Reconstructs one slice into `out` (size × size). */
type SliceMethod = (sinogram: Float32Array, center: number, out: Float32Array) => void;

/**
 * Reconstructs slices of one geometry with one set of options, in the calling thread. It keeps
 * what the algorithm precomputes per geometry (GridRec's tables and buffers, the projector's
 * system matrix), so a stream of single sinograms pays for it once.
 */
export class SliceReconstructor {
  readonly geometry: AcquisitionGeometry;
  readonly options: ResolvedOptions;
  private readonly gridrec: GridrecPlan | undefined;
  private readonly method: SliceMethod;

  /** A reconstructor for one geometry and set of options (GridRec's transforms load first). */
  static async create(
    geometry: AcquisitionGeometry,
    options: ResolvedOptions
  ): Promise<SliceReconstructor> {
    const plan =
      options.algorithm === 'gridrec'
        ? await GridrecPlan.create({
            angles: geometry.angles,
            pixels: geometry.pixels,
            size: options.size,
            filter: options.filter,
            filterParameters: options.filterParameters
          })
        : undefined;
    return new SliceReconstructor(geometry, options, plan);
  }

  private constructor(
    geometry: AcquisitionGeometry,
    options: ResolvedOptions,
    gridrec: GridrecPlan | undefined
  ) {
    this.geometry = geometry;
    this.options = options;
    this.gridrec = gridrec;
    this.method =
      gridrec === undefined
        ? rayMethod(geometry, options)
        : (sinogram, center, out) =>
            gridrec.reconstructPair(sinogram, undefined, center, out, undefined);
  }

  /** One sinogram (angles × pixels) → a new size × size image. */
  reconstructSlice(sinogram: Float32Array, center: number): Float32Array {
    const { size } = this.options;
    const out = new Float32Array(size * size);
    this.method(sinogram, center, out);
    return out;
  }

  /**
   * Slices `first … first + count - 1` of `stack` into the same slices of `out`
   * (slices × size × size), calling `onSlices(n)` as each n are done.
   */
  reconstructRange(
    stack: SinogramStack,
    centers: ArrayLike<number>,
    out: Float32Array,
    first: number,
    count: number,
    onSlices?: (done: number) => void
  ): void {
    const sinogramLength = stack.angles * stack.pixels;
    const imageLength = this.options.size * this.options.size;
    const sinogram = (s: number) =>
      stack.data.subarray(s * sinogramLength, (s + 1) * sinogramLength);
    const image = (s: number) => out.subarray(s * imageLength, (s + 1) * imageLength);
    const end = first + count;
    for (let s = first; s < end;) {
      // GridRec does two slices for the price of one when they share a centre.
      if (this.gridrec !== undefined && s + 1 < end && centers[s] === centers[s + 1]) {
        this.gridrec.reconstructPair(
          sinogram(s),
          sinogram(s + 1),
          centers[s],
          image(s),
          image(s + 1)
        );
        s += 2;
        onSlices?.(2);
      } else {
        this.method(sinogram(s), centers[s], image(s));
        s += 1;
        onSlices?.(1);
      }
    }
  }
}

/** The algorithms other than GridRec; each caches its per-geometry work itself. */
function rayMethod(geometry: AcquisitionGeometry, options: ResolvedOptions): SliceMethod {
  const { angles, pixels } = geometry;
  const sliceGeometry = (center: number) => ({
    pixels,
    angles: angles.length,
    center,
    size: options.size
  });
  switch (options.algorithm) {
    case 'fbp':
      return (sinogram, center, out) =>
        void fbp(sinogram, angles, sliceGeometry(center), {
          filter: options.filter,
          filterParameters: options.filterParameters,
          out
        });
    case 'bp':
      return (sinogram, center, out) =>
        void backprojection(sinogram, angles, sliceGeometry(center), { out });
    case 'mlem':
      return (sinogram, center, out) =>
        void mlem(sinogram, angles, sliceGeometry(center), {
          iterations: options.iterations,
          clipNegative: options.clipNegative,
          out
        });
    case 'sirt':
      return (sinogram, center, out) =>
        void sirt(sinogram, angles, sliceGeometry(center), { iterations: options.iterations, out });
    case 'gridrec':
      throw new Error('GridRec has its own plan');
  }
}
