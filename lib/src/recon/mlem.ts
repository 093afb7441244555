import {
  INITIAL_VALUE,
  backProject,
  checkIterations,
  checkSlice,
  forwardProject,
  outputImage,
  systemMatrixFor
} from './projector/index.js';
import type { SliceGeometry } from './projector/index.js';

export interface MlemOptions {
  /** Iterations (TomoPy's default: 1). */
  readonly iterations?: number;
  /**
   * Set negative sinogram values to 0 first (default true). TomoPy does not; with negative
   * values (noise after −log) the multiplicative update can flip signs and blow up.
   */
  readonly clipNegative?: boolean;
  /** Where to write the size × size image (overwritten); a new array when absent. */
  readonly out?: Float32Array;
}

/**
 * Maximum-likelihood expectation maximisation as TomoPy's `mlem`: from a uniform 1e-6 image,
 * each iteration multiplies every pixel by Aᵀ(b / Ax) / Aᵀ1. Pixels no ray crosses keep their
 * value. A ray whose current projection is 0 contributes nothing (TomoPy would divide by 0).
 */
export function mlem(
  sinogram: Float32Array,
  angles: Float32Array,
  geometry: SliceGeometry,
  options: MlemOptions = {}
): Float32Array {
  checkSlice(sinogram, angles, geometry);
  const iterations = options.iterations ?? 1;
  checkIterations(iterations);
  const matrix = systemMatrixFor(angles, geometry);
  const { columnSum, rowSquareSum } = matrix;

  let data = sinogram;
  if (options.clipNegative ?? true) {
    data = Float32Array.from(sinogram);
    for (let r = 0; r < data.length; r++) if (data[r] < 0) data[r] = 0;
  }

  const image = outputImage(options.out, geometry);
  image.fill(INITIAL_VALUE);
  const ratio = new Float32Array(matrix.rows);
  const update = new Float32Array(matrix.columns);
  for (let iteration = 0; iteration < iterations; iteration++) {
    forwardProject(matrix, image, ratio);
    for (let r = 0; r < ratio.length; r++) {
      const simulated = ratio[r];
      ratio[r] = rowSquareSum[r] !== 0 && simulated !== 0 ? data[r] / simulated : 0;
    }
    backProject(matrix, ratio, update);
    for (let j = 0; j < image.length; j++)
      if (columnSum[j] !== 0) image[j] *= update[j] / columnSum[j];
  }
  return image;
}
