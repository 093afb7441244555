import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSinograms } from '../../../src/recon/load.js';
import { parseNpy, type NpyArray } from '../../../src/recon/npy.js';
import type { SinogramStack } from '../../../src/recon/types.js';
import { sharedDataDir, tomopyReferenceDir } from '../../support/paths.js';

/** A NumPy array read as float32, with its shape (the library's reader, synchronously). */
export function readNpy(path: string): NpyArray {
  return parseNpy(readFileSync(path), path);
}

/** A file of TomoPy's reference data. */
export function readReference(name: string): NpyArray {
  return readNpy(join(tomopyReferenceDir, `${name}.npy`));
}

/** TomoPy's test case: 16 angles (float64 cast to float32, as its tests do), 8 slices, 48 px. */
export interface ReferenceCase {
  readonly angles: Float32Array;
  readonly slices: number;
  readonly pixels: number;
  /** Slice s's sinogram (angles × pixels): proj[:, s, :]. */
  sinogram(slice: number): Float32Array;
}

/** The whole reference case as one block of sinograms (slices × angles × pixels). */
export function referenceStack(): { sinograms: SinogramStack; angles: Float32Array } {
  const reference = referenceCase();
  const { angles, slices, pixels } = reference;
  const data = new Float32Array(slices * angles.length * pixels);
  for (let s = 0; s < slices; s++) data.set(reference.sinogram(s), s * angles.length * pixels);
  return { sinograms: { data, slices, angles: angles.length, pixels }, angles };
}

export function referenceCase(): ReferenceCase {
  const projections = readReference('proj');
  const angles = readReference('angle').data;
  const [angleCount, slices, pixels] = projections.shape;
  return {
    angles,
    slices,
    pixels,
    sinogram(slice) {
      const out = new Float32Array(angleCount * pixels);
      for (let p = 0; p < angleCount; p++) {
        const from = (p * slices + slice) * pixels;
        out.set(projections.data.subarray(from, from + pixels), p * pixels);
      }
      return out;
    }
  };
}

export { relativeL2 } from '../../../src/recon/image-metrics.js';

/**
 * Reconstructs every slice of the reference case with `method` (centre: TomoPy's default,
 * pixels / 2) and returns the stacked images, slices × pixels × pixels.
 */
export function reconstructReference(
  method: (
    sinogram: Float32Array,
    angles: Float32Array,
    geometry: { pixels: number; angles: number; center: number; size: number }
  ) => Float32Array
): Float32Array {
  const reference = referenceCase();
  const { pixels, slices, angles } = reference;
  const geometry = { pixels, angles: angles.length, center: pixels / 2, size: pixels };
  const out = new Float32Array(slices * pixels * pixels);
  for (let s = 0; s < slices; s++)
    out.set(method(reference.sinogram(s), angles, geometry), s * pixels * pixels);
  return out;
}

/**
 * One detector row of the APS tooth scan (tooth.h5) as a sinogram, flat- and dark-corrected and
 * −log'ed the usual way (so it has small negative values), detector pixels averaged in groups
 * of `bin`. Angles in radians.
 */
export async function toothSinogram(
  row: number,
  bin: number
): Promise<{ sinogram: Float32Array; angles: Float32Array; pixels: number }> {
  const tooth = await loadSinograms(join(sharedDataDir, 'tooth.h5'), { slices: [row, row + 1] });
  const { angles: angleCount, pixels: width } = tooth.sinograms;
  const pixels = Math.floor(width / bin);
  const sinogram = new Float32Array(angleCount * pixels);
  for (let p = 0; p < angleCount; p++)
    for (let d = 0; d < pixels * bin; d++)
      sinogram[p * pixels + Math.floor(d / bin)] += tooth.sinograms.data[p * width + d] / bin;
  return { sinogram, angles: tooth.angles, pixels };
}
