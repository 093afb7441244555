/**
 * The gridding kernel of GridRec: a prolate spheroidal wave function (PSWF) of order zero,
 * tabulated from its Legendre expansion, and the reciprocal of its Fourier transform that undoes
 * the kernel's apodisation in the image (Dowd et al. 1999; the constants are the ones TomoPy's
 * GridRec uses, so our images match its reference outputs).
 */

/** Bandwidth parameter of the PSWF (TomoPy: C = 7). */
export const PSWF_C = 7;
/** Its eigenvalue for that bandwidth. */
const PSWF_LAMBDA = 0.99998546;
/** Degree of the Legendre expansion and its coefficients (even polynomials P0, P2, … P20). */
const LEGENDRE_DEGREE = 20;
const LEGENDRE_COEFFICIENTS = [
  0.5767616e2, -0.8931343e2, 0.4167596e2, -0.1053599e2, 0.1662374e1, -0.1780527, 0.1372983e-1,
  -0.7963169e-3, 0.3593372e-4, -0.1295941e-5, 0.3817796e-7
];
/** Samples of the kernel over its half-width. */
export const KERNEL_TABLE_LENGTH = 512;
/** Kernel half-width in frequency-grid cells (TomoPy's L2 = ⌊C/π⌋) and table samples per cell. */
export const KERNEL_HALF_WIDTH = Math.trunc(PSWF_C / Math.PI);
export const KERNEL_SAMPLES_PER_CELL =
  (2 * KERNEL_TABLE_LENGTH) / Math.trunc((2 * PSWF_C) / Math.PI);

/** Σ coefficients[k]·P_2k(x) for x in [-1, 1], by the three-term Legendre recurrence. */
function evenLegendreSeries(x: number): number {
  let sum = LEGENDRE_COEFFICIENTS[0];
  let previous = 1;
  let current = x;
  for (let n = 2; n <= LEGENDRE_DEGREE; n++) {
    const next = ((2 * n - 1) * x * current - (n - 1) * previous) / n;
    if (n % 2 === 0) sum += next * LEGENDRE_COEFFICIENTS[n / 2];
    previous = current;
    current = next;
  }
  return sum;
}

/** The kernel normalised to 1 at 0, sampled at i / KERNEL_TABLE_LENGTH for i = 0 … length. */
export function kernelTable(): Float64Array {
  const table = new Float64Array(KERNEL_TABLE_LENGTH + 1);
  const atZero = evenLegendreSeries(0);
  table[0] = 1;
  for (let i = 1; i <= KERNEL_TABLE_LENGTH; i++)
    table[i] = evenLegendreSeries(i / KERNEL_TABLE_LENGTH) / atZero;
  return table;
}

/**
 * The image-space correction for a padded grid of `size` cells: entry `half - 1 ± i` is
 * (-1)^i·norm / kernel(i / (half - 0.5)), `half = size / 2`. The alternating sign moves the
 * origin from the middle of the frequency grid to its corner; norm folds in the 2-D transform's
 * scale and the kernel's own transform. Length `size` (TomoPy's table has size - 1 entries; the
 * last is only read when the image fills the whole padded grid, and is extended by symmetry).
 */
export function correctionTable(size: number, table: Float64Array): Float64Array {
  const centre = size / 2 - 1;
  const step = KERNEL_TABLE_LENGTH / (centre + 0.5);
  const correction = new Float64Array(size);
  let norm = Math.sqrt(Math.PI / 2 / PSWF_C / PSWF_LAMBDA) / 1.2;
  correction[centre] = norm / table[0];
  for (let i = 1; i <= centre + 1; i++) {
    norm = -norm;
    const value = norm / table[Math.min(KERNEL_TABLE_LENGTH, Math.round(i * step))];
    if (centre + i < size) correction[centre + i] = value;
    if (centre - i >= 0) correction[centre - i] = value;
  }
  return correction;
}
