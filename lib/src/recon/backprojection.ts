import { backProjectAdd, checkSlice, outputImage, systemMatrixFor } from './projector/index.js';
import type { SliceGeometry } from './projector/index.js';

export interface BackprojectionOptions {
  /** Where to write the size × size image (overwritten); a new array when absent. */
  readonly out?: Float32Array;
}

/**
 * TomoPy's `algorithm='fbp'`: despite the name a plain, unfiltered back-projection. Each
 * sinogram value is spread along its ray, weighted by the ray's length in each pixel, with no
 * filter and no normalisation, so the image is blurred and its values scale with the number of
 * angles. (TomoPy adds this onto its 1e-6 starting image; that offset is left out.)
 */
export function backprojection(
  sinogram: Float32Array,
  angles: Float32Array,
  geometry: SliceGeometry,
  options: BackprojectionOptions = {}
): Float32Array {
  checkSlice(sinogram, angles, geometry);
  const matrix = systemMatrixFor(angles, geometry);
  const image = outputImage(options.out, geometry);
  image.fill(0);
  backProjectAdd(matrix, sinogram, image);
  return image;
}
