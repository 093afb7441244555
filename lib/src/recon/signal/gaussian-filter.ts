import { reflectIndex } from './boundaries.js';

/**
 * scipy.ndimage.gaussian_filter(image, (sigmaRows, sigmaCols), mode='reflect') of a float32
 * image: separable, truncated at 4 σ, rows axis first, float32 between the passes.
 */
export function gaussianFilter(
  image: Float32Array,
  rows: number,
  cols: number,
  sigmaRows: number,
  sigmaCols: number
): Float32Array {
  const alongColumns = filterAxis(image, rows, cols, sigmaRows, cols, 1);
  return filterAxis(alongColumns, cols, rows, sigmaCols, 1, cols);
}

/** Correlates every line of `length` samples (spaced `stride` apart; lines start `lineStep` apart)
 *  with a normalised Gaussian, reflecting at the ends. */
function filterAxis(
  input: Float32Array,
  length: number,
  lines: number,
  sigma: number,
  stride: number,
  lineStep: number
): Float32Array {
  const output = new Float32Array(input.length);
  const radius = Math.trunc(4 * sigma + 0.5);
  const weights = new Float64Array(2 * radius + 1);
  let total = 0;
  for (let k = -radius; k <= radius; k++) {
    weights[k + radius] = Math.exp((-0.5 / (sigma * sigma)) * k * k);
    total += weights[k + radius];
  }
  for (let k = 0; k < weights.length; k++) weights[k] /= total;
  for (let line = 0; line < lines; line++) {
    const base = line * lineStep;
    for (let i = 0; i < length; i++) {
      let sum = 0;
      for (let k = -radius; k <= radius; k++) {
        sum += weights[k + radius] * input[base + reflectIndex(i + k, length) * stride];
      }
      output[base + i * stride] = sum;
    }
  }
  return output;
}
