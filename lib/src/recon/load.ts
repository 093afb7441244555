import { extname } from 'node:path';
import { readDataExchange } from './data-exchange.js';
import { ReconInputError } from './errors.js';
import { readNpy } from './npy.js';
import { minusLog, normalize, projectionsToSinograms } from './preprocess.js';
import type { SinogramStack } from './types.js';

export interface LoadOptions {
  /** Detector rows (slices) [start, end) to load; all by default. */
  readonly slices?: readonly [number, number | undefined];
  /** .npy input: a .npy file of angles in radians (required; an .h5 file carries its own). */
  readonly anglesPath?: string;
  /** .npy input: the array is already slices × angles × pixels (default: TomoPy's projection order). */
  readonly sinogramOrder?: boolean;
}

/** Sinograms ready to reconstruct and where they came from. */
export interface LoadedSinograms {
  readonly sinograms: SinogramStack;
  readonly angles: Float32Array;
  /** The first slice's detector row in the file. */
  readonly firstRow: number;
  /** Values ≤ 0 after flat/dark normalisation that the -log guard replaced (HDF5 input). */
  readonly guarded: number;
  readonly preprocessing: 'normalized, -log' | 'none';
}

/**
 * Loads what `pilot-streaming recon` reconstructs: an APS DataExchange HDF5 file (normalised by
 * its flat and dark fields, then -log) or a NumPy array of projections already in line integrals
 * (TomoPy's proj.npy: angles × rows × pixels, or a single angles × pixels sinogram).
 */
export async function loadSinograms(
  path: string,
  options: LoadOptions = {}
): Promise<LoadedSinograms> {
  const extension = extname(path).toLowerCase();
  if (['.h5', '.hdf5', '.hdf', '.nxs'].includes(extension)) return loadDataExchange(path, options);
  if (extension === '.npy') return loadNpy(path, options);
  throw new ReconInputError(
    `${path}: expected an APS DataExchange HDF5 file (.h5, .hdf5) or a NumPy array of projections (.npy)`
  );
}

async function loadDataExchange(path: string, options: LoadOptions): Promise<LoadedSinograms> {
  if (options.sinogramOrder === true)
    throw new ReconInputError('--sinogram-order applies to .npy input only, not to HDF5 files');
  const [start, end] = options.slices ?? [0, undefined];
  // An open end (`A:`) needs the file's row count, which only a read of all rows gives here.
  const exchange = await readDataExchange(path, end === undefined ? {} : { rows: [start, end] });
  const normalized = normalize(exchange.projections, exchange.white, exchange.dark);
  const { stack, guarded } = minusLog(normalized, { inPlace: true });
  let angles = exchange.theta;
  if (options.anglesPath !== undefined)
    angles = await readAngles(options.anglesPath, angles.length);
  let sinograms = projectionsToSinograms(stack);
  if (end === undefined) sinograms = sliceRange(sinograms, start, sinograms.slices, path);
  return {
    sinograms,
    angles,
    firstRow: options.slices?.[0] ?? 0,
    guarded,
    preprocessing: 'normalized, -log'
  };
}

async function loadNpy(path: string, options: LoadOptions): Promise<LoadedSinograms> {
  if (options.anglesPath === undefined)
    throw new ReconInputError(
      `${path}: a .npy array carries no angles; give them with --angles angles.npy (radians)`
    );
  const array = await readNpy(path);
  const { shape } = array;
  let sinograms: SinogramStack;
  if (shape.length === 2) {
    sinograms = { data: array.data, slices: 1, angles: shape[0], pixels: shape[1] };
  } else if (shape.length === 3 && options.sinogramOrder === true) {
    sinograms = { data: array.data, slices: shape[0], angles: shape[1], pixels: shape[2] };
  } else if (shape.length === 3) {
    const projections = { data: array.data, angles: shape[0], rows: shape[1], pixels: shape[2] };
    sinograms = projectionsToSinograms(projections);
  } else {
    throw new ReconInputError(
      `${path} has shape (${shape.join(', ')}): expected projections (angles, rows, pixels) or one sinogram (angles, pixels)`
    );
  }
  const angles = await readAngles(options.anglesPath, sinograms.angles);
  const start = options.slices?.[0] ?? 0;
  const end = options.slices?.[1] ?? sinograms.slices;
  return {
    sinograms: sliceRange(sinograms, start, end, path),
    angles,
    firstRow: start,
    guarded: 0,
    preprocessing: 'none'
  };
}

async function readAngles(path: string, expected: number): Promise<Float32Array> {
  const array = await readNpy(path);
  if (array.shape.length !== 1 || array.shape[0] !== expected)
    throw new ReconInputError(
      `${path} has shape (${array.shape.join(', ')}): expected (${expected},), one angle in radians per projection`
    );
  return array.data;
}

function sliceRange(stack: SinogramStack, start: number, end: number, path: string): SinogramStack {
  if (
    !Number.isInteger(start) ||
    !Number.isInteger(end) ||
    start < 0 ||
    end > stack.slices ||
    start >= end
  )
    throw new ReconInputError(
      `--slices ${start}:${end} is outside ${path}, which has slices 0:${stack.slices}`
    );
  const length = stack.angles * stack.pixels;
  return { ...stack, data: stack.data.subarray(start * length, end * length), slices: end - start };
}

/** Parses `A:B` (end exclusive, either side may be empty) as Python slices are written. */
export function parseSliceRange(text: string): [number, number | undefined] {
  const match = /^(\d*):(\d*)$/.exec(text.trim()) ?? /^(\d+)$/.exec(text.trim());
  if (match === null)
    throw new ReconInputError(
      `--slices ${JSON.stringify(text)}: expected START:END (e.g. 0:2) or one slice index`
    );
  if (match.length === 2) return [Number(match[1]), Number(match[1]) + 1];
  const start = match[1] === '' ? 0 : Number(match[1]);
  const end = match[2] === '' ? undefined : Number(match[2]);
  return [start, end];
}
