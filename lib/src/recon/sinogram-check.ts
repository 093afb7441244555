import { ReconInputError } from './errors.js';

/** Rejects a sinogram (angles × pixels) a centre cannot be found from, naming what is wrong. */
export function checkSinogram(sinogram: Float32Array, angles: number, pixels: number): void {
  if (!Number.isInteger(angles) || !Number.isInteger(pixels) || angles < 1 || pixels < 1) {
    throw new ReconInputError(`a sinogram of ${angles} angles × ${pixels} pixels is not possible`);
  }
  if (sinogram.length !== angles * pixels) {
    throw new ReconInputError(
      `the sinogram has ${sinogram.length} values, not ${angles} angles × ${pixels} pixels`
    );
  }
  let nonFinite = 0;
  for (const value of sinogram) if (!Number.isFinite(value)) nonFinite++;
  if (nonFinite > 0) {
    throw new ReconInputError(
      `the sinogram holds ${nonFinite} NaN or infinite values; a centre cannot be found from it`
    );
  }
}
