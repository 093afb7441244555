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

export interface SirtOptions {
  /** Iterations (TomoPy's default: 1). */
  readonly iterations?: number;
  /** Where to write the size × size image (overwritten); a new array when absent. */
  readonly out?: Float32Array;
}

/**
 * The simultaneous algebraic reconstruction technique as TomoPy's `sirt`: from a uniform 1e-6
 * image, each iteration spreads every ray's residual b − Ax, divided by the ray's summed
 * squared lengths, back along the ray, and adds the result divided by Aᵀ1 to each pixel.
 * Rays that miss the image and pixels no ray crosses are left out.
 */
export function sirt(
  sinogram: Float32Array,
  angles: Float32Array,
  geometry: SliceGeometry,
  options: SirtOptions = {}
): Float32Array {
  checkSlice(sinogram, angles, geometry);
  const iterations = options.iterations ?? 1;
  checkIterations(iterations);
  const matrix = systemMatrixFor(angles, geometry);
  const { columnSum, rowSquareSum } = matrix;

  const image = outputImage(options.out, geometry);
  image.fill(INITIAL_VALUE);
  const residual = new Float32Array(matrix.rows);
  const update = new Float32Array(matrix.columns);
  for (let iteration = 0; iteration < iterations; iteration++) {
    forwardProject(matrix, image, residual);
    for (let r = 0; r < residual.length; r++)
      residual[r] = rowSquareSum[r] !== 0 ? (sinogram[r] - residual[r]) / rowSquareSum[r] : 0;
    backProject(matrix, residual, update);
    for (let j = 0; j < image.length; j++)
      if (columnSum[j] !== 0) image[j] += update[j] / columnSum[j];
  }
  return image;
}
