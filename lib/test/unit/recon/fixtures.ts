import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedDataDir, tomopyReferenceDir } from '../../support/paths.js';

/** A NumPy array read as float32, with its shape. */
export interface NpyArray {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

/** Reads a version-1 .npy file of little-endian float32 or float64 in C order. */
export function readNpy(path: string): NpyArray {
  const bytes = readFileSync(path);
  if (bytes.toString('latin1', 0, 6) !== '\x93NUMPY' || bytes[6] !== 1)
    throw new Error(`${path}: not a version-1 .npy file`);
  const headerLength = bytes.readUInt16LE(8);
  const header = bytes.toString('latin1', 10, 10 + headerLength);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    throw new Error(`${path}: unreadable header ${header}`);
  if (fortran === 'True') throw new Error(`${path}: Fortran order is not supported`);
  const shape = shapeText
    .split(',')
    .map(part => part.trim())
    .filter(part => part !== '')
    .map(Number);
  const count = shape.reduce((product, n) => product * n, 1);
  const offset = 10 + headerLength;
  // Copy out so the typed array is aligned whatever the header length.
  const body = bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + bytes.length);
  if (descr === '<f4') return { data: new Float32Array(body, 0, count), shape };
  if (descr === '<f8') return { data: Float32Array.from(new Float64Array(body, 0, count)), shape };
  throw new Error(`${path}: dtype ${descr} is not supported (expected <f4 or <f8)`);
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

/** ‖ours − reference‖ / ‖reference‖ over whole arrays. */
export function relativeL2(ours: ArrayLike<number>, reference: ArrayLike<number>): number {
  let difference = 0;
  let norm = 0;
  for (let i = 0; i < reference.length; i++) {
    difference += (ours[i] - reference[i]) ** 2;
    norm += reference[i] ** 2;
  }
  return Math.sqrt(difference / norm);
}

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
  // Loaded on demand: only the tests that read the tooth pay for the HDF5 library.
  const h5 = await import('h5wasm/node');
  await h5.ready;
  const file = new h5.File(join(sharedDataDir, 'tooth.h5'), 'r');
  try {
    const read = (path: string) => {
      const dataset = file.get(path);
      if (!(dataset instanceof h5.Dataset)) throw new Error(`tooth.h5 has no dataset ${path}`);
      return { value: dataset.value as Float32Array | Float64Array, shape: dataset.shape ?? [] };
    };
    const data = read('/exchange/data');
    const white = read('/exchange/data_white');
    const dark = read('/exchange/data_dark');
    const theta = read('/exchange/theta').value;
    const [angleCount, rows, width] = data.shape;
    const meanOver = (stack: { value: ArrayLike<number>; shape: number[] }, d: number) => {
      let sum = 0;
      for (let k = 0; k < stack.shape[0]; k++) sum += stack.value[(k * rows + row) * width + d];
      return sum / stack.shape[0];
    };
    const pixels = Math.floor(width / bin);
    const sinogram = new Float32Array(angleCount * pixels);
    for (let p = 0; p < angleCount; p++)
      for (let d = 0; d < pixels * bin; d++) {
        const flat = meanOver(white, d) - meanOver(dark, d);
        const value = (data.value[(p * rows + row) * width + d] - meanOver(dark, d)) / flat;
        sinogram[p * pixels + Math.floor(d / bin)] += -Math.log(Math.max(value, 1e-6)) / bin;
      }
    const angles = Float32Array.from(theta, degrees => (degrees * Math.PI) / 180);
    return { sinogram, angles, pixels };
  } finally {
    file.close();
  }
}
