import { ReconInputError } from './errors.js';
import type { ProjectionStack, SinogramStack } from './types.js';

/**
 * Flat/dark correction, -log and the projection ↔ sinogram transposes. Arithmetic is float32
 * step by step (Math.fround) as TomoPy's numexpr code does it, so results match it bit for bit.
 */

// TomoPy's floor for flat - dark (tomopy.prep.normalize: l = np.float32(1e-6)).
const DENOMINATOR_FLOOR = Math.fround(1e-6);

/**
 * Replaces values ≤ 0 before -log. 1e-6 is the same floor TomoPy puts under flat - dark, so the
 * largest attenuation -log can produce is -ln(1e-6) ≈ 13.8 instead of +Infinity/NaN; how many
 * values were replaced is returned so that the caller can report it.
 */
export const DEFAULT_LOG_FLOOR = 1e-6;

export interface NormalizeOptions {
  /** Upper limit of the normalized values (TomoPy's `cutoff`); none by default. */
  readonly cutoff?: number;
}

/**
 * tomopy.prep.normalize.normalize: (projection - dark) / (flat - dark), with flat and dark the
 * means over their angles and flat - dark floored at 1e-6.
 */
export function normalize(
  projections: ProjectionStack,
  white: ProjectionStack,
  dark: ProjectionStack,
  options: NormalizeOptions = {}
): ProjectionStack {
  const { rows, pixels } = projections;
  for (const [name, field] of [
    ['white', white],
    ['dark', dark]
  ] as const) {
    if (field.rows !== rows || field.pixels !== pixels) {
      throw new ReconInputError(
        `${name} fields are ${field.rows} rows × ${field.pixels} pixels but the projections are ${rows} × ${pixels}`
      );
    }
    if (field.angles === 0) throw new ReconInputError(`there are no ${name} fields to average`);
  }
  const flatMean = meanOverAngles(white);
  const darkMean = meanOverAngles(dark);
  const size = rows * pixels;
  const denominator = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const difference = Math.fround(flatMean[i] - darkMean[i]);
    denominator[i] = difference < DENOMINATOR_FLOOR ? DENOMINATOR_FLOOR : difference;
  }

  const cutoff = options.cutoff === undefined ? undefined : Math.fround(options.cutoff);
  const source = projections.data;
  const out = new Float32Array(source.length);
  for (let angle = 0, offset = 0; angle < projections.angles; angle++, offset += size) {
    for (let i = 0; i < size; i++) {
      const value = Math.fround(Math.fround(source[offset + i] - darkMean[i]) / denominator[i]);
      out[offset + i] = cutoff !== undefined && value > cutoff ? cutoff : value;
    }
  }
  return { data: out, angles: projections.angles, rows, pixels };
}

/** np.mean(stack, axis=0, dtype=np.float32): a float32 running sum over angles, then / n. */
function meanOverAngles(stack: ProjectionStack): Float32Array {
  const size = stack.rows * stack.pixels;
  const sum = new Float32Array(size);
  for (let angle = 0, offset = 0; angle < stack.angles; angle++, offset += size) {
    for (let i = 0; i < size; i++) sum[i] = sum[i] + stack.data[offset + i];
  }
  for (let i = 0; i < size; i++) sum[i] = sum[i] / stack.angles;
  return sum;
}

export interface MinusLogOptions {
  /** Values ≤ 0 are replaced by this before the log; DEFAULT_LOG_FLOOR by default. */
  readonly floor?: number;
  /** Overwrite the input's data instead of allocating a new array. */
  readonly inPlace?: boolean;
}

export interface MinusLogResult<T> {
  readonly stack: T;
  /** How many values were ≤ 0 and replaced by the floor. */
  readonly guarded: number;
}

/** -log(x) of every value (tomopy.prep.normalize.minus_log), guarding values ≤ 0. */
export function minusLog<T extends { readonly data: Float32Array }>(
  stack: T,
  options: MinusLogOptions = {}
): MinusLogResult<T> {
  const floor = options.floor ?? DEFAULT_LOG_FLOOR;
  if (!(floor > 0) || !Number.isFinite(floor)) {
    throw new ReconInputError(`the -log floor must be a positive number, not ${floor}`);
  }
  const source = stack.data;
  const out = options.inPlace === true ? source : new Float32Array(source.length);
  const logOfFloor = -Math.log(Math.fround(floor));
  let guarded = 0;
  for (let i = 0; i < source.length; i++) {
    const value = source[i];
    if (value <= 0) {
      out[i] = logOfFloor;
      guarded++;
    } else {
      out[i] = -Math.log(value); // NaN stays NaN, as in TomoPy
    }
  }
  return { stack: out === source ? stack : { ...stack, data: out }, guarded };
}

/** angles × rows × pixels → rows × angles × pixels (one sinogram per detector row). */
export function projectionsToSinograms(projections: ProjectionStack): SinogramStack {
  const { angles, rows, pixels } = projections;
  const data = transposeOuter(projections.data, angles, rows, pixels);
  return { data, slices: rows, angles, pixels };
}

/** rows × angles × pixels → angles × rows × pixels. */
export function sinogramsToProjections(sinograms: SinogramStack): ProjectionStack {
  const { slices, angles, pixels } = sinograms;
  const data = transposeOuter(sinograms.data, slices, angles, pixels);
  return { data, angles, rows: slices, pixels };
}

/** Swaps the two outer axes of an a × b × c array; rows of c values are copied whole. */
function transposeOuter(source: Float32Array, a: number, b: number, c: number): Float32Array {
  if (source.length !== a * b * c) {
    throw new ReconInputError(
      `the stack claims ${a} × ${b} × ${c} = ${a * b * c} values but holds ${source.length}`
    );
  }
  const out = new Float32Array(source.length);
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < b; j++) {
      const from = (i * b + j) * c;
      out.set(source.subarray(from, from + c), (j * a + i) * c);
    }
  }
  return out;
}
