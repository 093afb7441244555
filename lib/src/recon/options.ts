import { ReconInputError } from './errors.js';
import { paddedLength } from './gridrec/padding.js';
import { DEFAULT_FILTER_PARAMETERS, parseFilterName } from './filters.js';
import type { FilterName, FilterParameters } from './filters.js';

/**
 * The algorithms behind one API. `bp` is what TomoPy calls `fbp`: a plain, unfiltered
 * back-projection (its C code applies no filter); `fbp` here is a filtered back-projection.
 */
export const ALGORITHMS = ['gridrec', 'fbp', 'bp', 'mlem', 'sirt'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

/** What a caller may pass to `reconstruct()`; everything but the algorithm has a default. */
export interface ReconstructOptions {
  readonly algorithm: Algorithm;
  /** gridrec and fbp: the Fourier filter (default `shepp`, TomoPy's default). */
  readonly filter?: FilterName;
  /** gridrec and fbp: TomoPy's filter_par (cut-off 0.5, Butterworth order 8). */
  readonly filterParameters?: FilterParameters;
  /** mlem and sirt: iterations (TomoPy's default: 1). */
  readonly iterations?: number;
  /** mlem: set negative sinogram values to 0 first (default true; TomoPy does not). */
  readonly clipNegative?: boolean;
  /**
   * Rotation centre as a detector coordinate: one for all slices, one per slice, or `auto` to
   * find it from the data (TomoPy's find_center on the middle slice). Default pixels / 2.
   */
  readonly center?: number | ArrayLike<number> | 'auto';
  /** Reconstructed image width and height (default: the detector width). */
  readonly size?: number;
  /** Worker threads for a block of slices (default: every core; 1 runs in this thread). */
  readonly threads?: number;
}

/** Options with every default filled in and every value checked. */
export interface ResolvedOptions {
  readonly algorithm: Algorithm;
  readonly filter: FilterName;
  readonly filterParameters: FilterParameters;
  readonly iterations: number;
  readonly clipNegative: boolean;
  readonly size: number;
}

export function parseAlgorithm(value: unknown, key = 'algorithm'): Algorithm {
  if (typeof value === 'string' && (ALGORITHMS as readonly string[]).includes(value))
    return value as Algorithm;
  throw new ReconInputError(
    `${key} = ${JSON.stringify(value)} is not a reconstruction algorithm: expected one of ${ALGORITHMS.join(', ')}`
  );
}

function positiveInteger(key: string, value: unknown, limit: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > limit)
    throw new ReconInputError(
      `${key} = ${JSON.stringify(value)}: expected a whole number from 1 to ${limit}`
    );
  return value;
}

/** Checks the options against a detector `pixels` wide; names the bad key and value. */
export function resolveOptions(options: ReconstructOptions, pixels: number): ResolvedOptions {
  if (options === null || typeof options !== 'object')
    throw new ReconInputError(
      `options = ${JSON.stringify(options)}: expected an object with at least an algorithm`
    );
  const algorithm = parseAlgorithm(options.algorithm);
  const filter = parseFilterName(options.filter ?? 'shepp');
  const filterParameters = options.filterParameters ?? DEFAULT_FILTER_PARAMETERS;
  for (const key of ['cutoff', 'order'] as const) {
    const value = filterParameters[key];
    if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value))
      throw new ReconInputError(
        `filterParameters.${key} = ${JSON.stringify(value)}: expected a positive number`
      );
  }
  const iterations = positiveInteger('iterations', options.iterations ?? 1, 100_000);
  const clipNegative = options.clipNegative ?? true;
  if (typeof clipNegative !== 'boolean')
    throw new ReconInputError(
      `clipNegative = ${JSON.stringify(clipNegative)}: expected true or false`
    );
  const size = positiveInteger('size', options.size ?? pixels, 16_384);
  if (algorithm === 'gridrec') {
    const padded = paddedLength(pixels);
    if (size > padded)
      throw new ReconInputError(
        `size = ${size}: GridRec reconstructs at most ${padded} pixels for a detector ${pixels} wide`
      );
  }
  return { algorithm, filter, filterParameters, iterations, clipNegative, size };
}
