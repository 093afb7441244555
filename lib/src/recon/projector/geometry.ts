import { ReconInputError } from '../errors.js';

/**
 * What one slice's reconstruction depends on besides the data. Coordinates follow TomoPy: the
 * detector runs from 0 to `pixels` (pixel d is centred at d + 0.5) and the rotation axis is at
 * detector coordinate `center` (TomoPy's default: pixels / 2). The image is `size` × `size`
 * with its middle on the rotation axis; image row i is TomoPy's x index and column j its y
 * index, so pixel (i, j) is centred at x = i + 0.5 − size / 2, y = j + 0.5 − size / 2, and a
 * ray at angle θ through that point meets the detector at −x·sin θ + y·cos θ + center.
 */
export interface SliceGeometry {
  /** Detector width. */
  readonly pixels: number;
  /** Number of projection angles. */
  readonly angles: number;
  /** Rotation axis as a detector coordinate. */
  readonly center: number;
  /** Reconstructed image width and height. */
  readonly size: number;
}

function checkCount(key: string, value: number): void {
  if (!Number.isInteger(value) || value < 1)
    throw new ReconInputError(`geometry.${key} = ${value}: expected a whole number ≥ 1`);
}

/** Checks the geometry itself; names the bad key and value. */
export function checkGeometry(geometry: SliceGeometry): void {
  checkCount('pixels', geometry.pixels);
  checkCount('angles', geometry.angles);
  checkCount('size', geometry.size);
  if (!Number.isFinite(geometry.center))
    throw new ReconInputError(`geometry.center = ${geometry.center}: expected a finite number`);
}

/** Checks one slice's sinogram (angles × pixels) and angles against its geometry. */
export function checkSlice(
  sinogram: Float32Array,
  angles: Float32Array,
  geometry: SliceGeometry
): void {
  checkGeometry(geometry);
  if (angles.length !== geometry.angles)
    throw new ReconInputError(
      `angles has ${angles.length} values: expected geometry.angles = ${geometry.angles}`
    );
  const expected = geometry.angles * geometry.pixels;
  if (sinogram.length !== expected)
    throw new ReconInputError(
      `sinogram has ${sinogram.length} values: expected angles × pixels = ${geometry.angles} × ${geometry.pixels} = ${expected}`
    );
  for (let p = 0; p < angles.length; p++)
    if (!Number.isFinite(angles[p]))
      throw new ReconInputError(`angles[${p}] = ${angles[p]}: expected a finite angle in radians`);
}

/** The caller's output image after checking its length, else a new one (size × size). */
export function outputImage(out: Float32Array | undefined, geometry: SliceGeometry): Float32Array {
  const length = geometry.size * geometry.size;
  if (out === undefined) return new Float32Array(length);
  if (out.length !== length)
    throw new ReconInputError(
      `out has ${out.length} values: expected size × size = ${geometry.size} × ${geometry.size} = ${length}`
    );
  return out;
}
