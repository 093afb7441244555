import { ReconInputError } from './errors.js';

/**
 * TomoPy's reconstruction filters in the Fourier domain. `x` is the frequency in cycles per
 * detector pixel (0 … 0.5); each filter is the ramp |2x| shaped by a window. TomoPy defines the
 * windows its own way (hann and hamming scale x by `cutoff`, parzen and butterworth read it as a
 * cut-off), so these follow its definitions, which its reference reconstructions were made with.
 */
export const FILTER_NAMES = [
  'none',
  'shepp',
  'cosine',
  'hann',
  'hamming',
  'ramlak',
  'parzen',
  'butterworth'
] as const;

export type FilterName = (typeof FILTER_NAMES)[number];

/** TomoPy's `filter_par` default: a cut-off of 0.5 and a Butterworth order of 8. */
export interface FilterParameters {
  readonly cutoff: number;
  readonly order: number;
}

export const DEFAULT_FILTER_PARAMETERS: FilterParameters = { cutoff: 0.5, order: 8 };

type FilterResponse = (x: number, index: number, parameters: FilterParameters) => number;

const RESPONSES: Record<FilterName, FilterResponse> = {
  none: () => 1,
  shepp: (x, index) =>
    index === 0 ? 0 : Math.abs(2 * x) * (Math.sin(Math.PI * x) / (Math.PI * x)),
  cosine: x => Math.abs(2 * x) * Math.cos(Math.PI * x),
  hann: (x, _i, p) => Math.abs(2 * x) * 0.5 * (1 + Math.cos((2 * Math.PI * x) / p.cutoff)),
  hamming: (x, _i, p) => Math.abs(2 * x) * (0.54 + 0.46 * Math.cos((2 * Math.PI * x) / p.cutoff)),
  ramlak: x => Math.abs(2 * x),
  parzen: (x, _i, p) => Math.abs(2 * x) * Math.pow(1 - Math.abs(x) / p.cutoff, 3),
  butterworth: (x, _i, p) => Math.abs(2 * x) / (1 + Math.pow(x / p.cutoff, 2 * p.order))
};

/** Checks a filter name from a user (CLI flag, magic, option) and names the valid ones. */
export function parseFilterName(value: unknown, key = 'filter'): FilterName {
  if (typeof value === 'string' && (FILTER_NAMES as readonly string[]).includes(value))
    return value as FilterName;
  throw new ReconInputError(
    `${key} = ${JSON.stringify(value)} is not a reconstruction filter: expected one of ${FILTER_NAMES.join(', ')}`
  );
}

/**
 * The filter's response at the first `count` frequencies of a transform of length `length`
 * (frequency index i is i / length cycles per pixel).
 */
export function filterResponse(
  name: FilterName,
  length: number,
  count: number,
  parameters: FilterParameters = DEFAULT_FILTER_PARAMETERS
): Float64Array {
  const response = RESPONSES[name];
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) values[i] = response(i / length, i, parameters);
  return values;
}
