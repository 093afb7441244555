import { mirrorIndex } from './boundaries.js';

// scipy.ndimage.shift of one row with cubic splines (order=3, prefilter=True, mode='constant'):
// scipy prefilters with mirror boundaries, reads coefficients past the ends mirrored, and gives
// cval (0) for positions outside [0, n - 1].

const SPLINE_POLE = Math.sqrt(3) - 2;

/** The cubic B-spline coefficients interpolating `samples` (scipy's spline_filter1d). */
export function cubicSplineCoefficients(samples: Float32Array): Float64Array {
  const n = samples.length;
  const c = Float64Array.from(samples);
  if (n === 1) return c;
  const z = SPLINE_POLE;
  const gain = (1 - z) * (1 - 1 / z);
  for (let i = 0; i < n; i++) c[i] *= gain;
  // Causal initialisation for mirror boundaries (scipy's _init_causal_mirror).
  const zn1 = Math.pow(z, n - 1);
  let c0 = c[0] + zn1 * c[n - 1];
  let zi = z;
  for (let i = 1; i < n - 1; i++) {
    c0 += zi * (c[i] + zn1 * c[n - 1 - i]);
    zi *= z;
  }
  c[0] = c0 / (1 - zn1 * zn1);
  for (let i = 1; i < n; i++) c[i] += z * c[i - 1];
  c[n - 1] = ((z * c[n - 2] + c[n - 1]) * z) / (z * z - 1);
  for (let i = n - 2; i >= 0; i--) c[i] = z * (c[i + 1] - c[i]);
  return c;
}

/** out[x] = spline(x - shift), 0 where x - shift lies outside the row. */
export function shiftRow(coefficients: Float64Array, shift: number, out: Float32Array): void {
  const n = coefficients.length;
  for (let x = 0; x < n; x++) {
    const position = x - shift;
    if (position < 0 || position > n - 1) {
      out[x] = 0;
      continue;
    }
    const floor = Math.floor(position);
    const t = position - floor;
    const t2 = t * t;
    const t3 = t2 * t;
    const start = floor - 1;
    out[x] =
      ((1 - t) * (1 - t) * (1 - t) * coefficients[mirrorIndex(start, n)] +
        (4 - 6 * t2 + 3 * t3) * coefficients[mirrorIndex(start + 1, n)] +
        (1 + 3 * t + 3 * t2 - 3 * t3) * coefficients[mirrorIndex(start + 2, n)] +
        t3 * coefficients[mirrorIndex(start + 3, n)]) /
      6;
  }
}
