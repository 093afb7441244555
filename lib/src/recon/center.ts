import { ReconInputError } from './errors.js';
import { nelderMead } from './nelder-mead.js';
import type { ProjectionStack } from './types.js';

/**
 * Automatic rotation centre, as TomoPy finds it (tomopy/recon/rotation.py):
 * - findCenter: the centre whose reconstruction has the least histogram entropy (find_center);
 * - findCenterVo: Nghia Vo's Fourier method (find_center_vo), which needs no reconstruction.
 * findCenterVo's centres are detector positions with pixel j at j, as TomoPy's; findCenter's are
 * in the convention of the reconstructor it is given.
 * The FFT, Gaussian filter and spline shift below serve findCenterVo only (scipy/numpy equivalents).
 */

/** Reconstructs one sinogram (angles × pixels) about `center`; returns a square image. */
export type SliceReconstructor = (sinogram: Float32Array, center: number) => Float32Array;

export interface FindCenterOptions {
  /** Starting guess; TomoPy's default is floor(pixels / 2). */
  readonly init?: number;
  /** Desired accuracy in pixels (scipy's xatol and fatol); TomoPy's default is 0.5. */
  readonly tolerance?: number;
  /** Zero the image outside its inscribed circle before the histogram (default true). */
  readonly mask?: boolean;
}

export interface FindCenterResult {
  readonly center: number;
  /** Cost evaluations (one reconstruction each) by Nelder–Mead, after one reconstruction that
   *  sets the histogram range. */
  readonly evaluations: number;
  /** The entropy at `center`. */
  readonly entropy: number;
}

// tomopy.recon.rotation._find_center_cost: np.histogram(rec, bins=64, range=[hmin, hmax]).
const HISTOGRAM_BINS = 64;
const HISTOGRAM_EPSILON = Math.fround(1e-12);

/**
 * tomopy.recon.find_center: minimises the entropy of the histogram of a (masked) reconstruction
 * over the centre with scipy's Nelder–Mead from `init`. The histogram's range is fixed once from
 * a reconstruction about pixels / 2 (TomoPy's _adjust_hist_limits: min and max pushed outwards
 * by a factor 2).
 */
export function findCenter(
  sinogram: Float32Array,
  angles: number,
  pixels: number,
  reconstructSlice: SliceReconstructor,
  options: FindCenterOptions = {}
): FindCenterResult {
  checkSinogram(sinogram, angles, pixels);
  const init = options.init ?? Math.floor(pixels / 2);
  const tolerance = options.tolerance ?? 0.5;
  const mask = options.mask ?? true;
  if (!Number.isFinite(init))
    throw new ReconInputError(`the initial centre ${init} is not a number`);
  if (!(tolerance > 0))
    throw new ReconInputError(`the tolerance must be positive, not ${tolerance}`);

  const reconstruct = (center: number): Float32Array => {
    const image = reconstructSlice(sinogram, center);
    const size = Math.round(Math.sqrt(image.length));
    if (size * size !== image.length || size === 0) {
      throw new Error(
        `the slice reconstructor returned ${image.length} values, not a square image`
      );
    }
    if (mask) applyCircularMask(image, size);
    return image;
  };

  // TomoPy's recon() default centre is pixels / 2 (not floored).
  const reference = reconstruct(pixels / 2);
  let min = Infinity;
  let max = -Infinity;
  for (const value of reference) {
    if (value < min) min = value;
    if (value > max) max = value;
  }
  if (!Number.isFinite(min) || !Number.isFinite(max)) {
    throw new Error('the reconstruction about pixels / 2 has no finite values');
  }
  const low = min < 0 ? 2 * min : 0.5 * min;
  const high = max < 0 ? 0.5 * max : 2 * max;

  const result = nelderMead(
    // TomoPy casts the centre to float32 before reconstructing.
    ([center]) => histogramEntropy(reconstruct(Math.fround(center)), low, high),
    [init],
    { xatol: tolerance, fatol: tolerance }
  );
  return { center: result.x[0], evaluations: result.evaluations, entropy: result.value };
}

function checkSinogram(sinogram: Float32Array, angles: number, pixels: number): void {
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

/** tomopy.misc.corr.circ_mask(ratio=1, val=0) on one square image. */
function applyCircularMask(image: Float32Array, size: number): void {
  const radius = size / 2;
  const r2 = radius * radius;
  for (let i = 0; i < size; i++) {
    const y = 0.5 - radius + i;
    for (let j = 0; j < size; j++) {
      const x = 0.5 - radius + j;
      if (!(x * x + y * y < r2)) image[i * size + j] = 0;
    }
  }
}

/** -Σ p log2 p over np.histogram(image, 64, range=[low, high]), p = count / size + 1e-12. */
function histogramEntropy(image: Float32Array, low: number, high: number): number {
  let first = low;
  let last = high;
  if (first === last) {
    // np.histogram widens an empty range.
    first -= 0.5;
    last += 0.5;
  }
  const counts = new Float64Array(HISTOGRAM_BINS);
  const scale = HISTOGRAM_BINS / (last - first);
  for (const value of image) {
    if (!(value >= first && value <= last)) continue; // also skips NaN
    const bin = Math.min(HISTOGRAM_BINS - 1, Math.floor((value - first) * scale));
    counts[bin]++;
  }
  let entropy = 0;
  for (const count of counts) {
    const p = Math.fround(Math.fround(count / image.length) + HISTOGRAM_EPSILON);
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

// ---------------------------------------------------------------------------------------------
// Nghia Vo's method (Vo, Drakopoulos, Atwood, Reinhard, Opt. Express 22, 19078 (2014)): a 180°
// sinogram and its left-right flipped copy, shifted by twice the distance of a candidate centre
// from the middle, join into a 360° sinogram whose 2-D spectrum has the least energy outside the
// double wedge when the candidate is right. Coarse search over whole and half pixels, then a fine
// search around it. This follows TomoPy's current find_center_vo step by step.

export interface FindCenterVoOptions {
  /** Coarse search range relative to the middle of the detector (TomoPy: -50 and 50). */
  readonly smin?: number;
  readonly smax?: number;
  /** Fine search radius (6) and step (0.25) in pixels. */
  readonly srad?: number;
  readonly step?: number;
  /** Ratio between the object's size and the field of view, for the mask (0.5). */
  readonly ratio?: number;
  /** Rows of the spectrum dropped around its middle (20). */
  readonly drop?: number;
  /** Gaussian smoothing before the searches (true). */
  readonly smooth?: boolean;
}

export interface FindCenterVoResult {
  readonly center: number;
  /** The coarse search's result, for reports. */
  readonly coarseCenter: number;
}

const EMPTY = new Int32Array(0);

// TomoPy downsamples the coarse search for sinograms larger than this (about 2k × 2k).
const LARGE_SINOGRAM = 4e6;

/** tomopy.recon.find_center_vo on one sinogram (angles × pixels) of -log data. */
export function findCenterVo(
  sinogram: Float32Array,
  angles: number,
  pixels: number,
  options: FindCenterVoOptions = {}
): FindCenterVoResult {
  checkSinogram(sinogram, angles, pixels);
  const smin = options.smin ?? -50;
  const smax = options.smax ?? 50;
  const srad = options.srad ?? 6;
  const step = options.step ?? 0.25;
  const ratio = options.ratio ?? 0.5;
  const drop = options.drop ?? 20;
  const smooth = options.smooth ?? true;
  if (pixels < 8 || angles < 2) {
    throw new ReconInputError(
      `Vo's method needs at least 2 angles and 8 pixels (the sinogram is ${angles} × ${pixels})`
    );
  }

  // "There's a critical reason to use different window sizes between coarse and fine search."
  const coarseInput = smooth ? gaussianFilter(sinogram, angles, pixels, 3, 1) : sinogram;
  const fineInput = smooth ? gaussianFilter(sinogram, angles, pixels, 2, 2) : sinogram;

  let coarseCenter: number;
  if (angles * pixels > LARGE_SINOGRAM) {
    const small = downsample(coarseInput, angles, pixels, 2);
    coarseCenter =
      4 * searchCoarse(small.data, small.rows, small.cols, smin / 4, smax / 4, ratio, drop);
  } else {
    coarseCenter = searchCoarse(coarseInput, angles, pixels, smin, smax, ratio, drop);
  }
  const center = searchFine(fineInput, angles, pixels, srad, step, coarseCenter, ratio, drop);
  return { center, coarseCenter };
}

/**
 * The sinogram find_center_vo uses from projections: row `ind`, or when no row is named the mean
 * of the 10 rows around the middle (the middle row alone when there are 10 rows or fewer).
 */
export function voSinogram(projections: ProjectionStack, ind?: number): Float32Array {
  const { angles, rows, pixels, data } = projections;
  const out = new Float32Array(angles * pixels);
  let first: number;
  let count: number;
  if (ind !== undefined) {
    if (!Number.isInteger(ind) || ind < 0 || ind >= rows) {
      throw new ReconInputError(`row ${ind} is out of range: the projections have ${rows} rows`);
    }
    [first, count] = [ind, 1];
  } else {
    const middle = Math.floor(rows / 2);
    [first, count] = rows > 10 ? [middle - 5, 10] : [middle, 1];
  }
  for (let angle = 0; angle < angles; angle++) {
    const target = out.subarray(angle * pixels, (angle + 1) * pixels);
    for (let row = first; row < first + count; row++) {
      const from = (angle * rows + row) * pixels;
      for (let j = 0; j < pixels; j++) target[j] += data[from + j]; // float32 running sum
    }
    if (count > 1) for (let j = 0; j < pixels; j++) target[j] /= count;
  }
  return out;
}

function searchCoarse(
  sino: Float32Array,
  nrow: number,
  ncol: number,
  smin: number,
  smax: number,
  ratio: number,
  drop: number
): number {
  const middle = (ncol - 1) / 2;
  // np.int16(np.clip(s + middle, 0, ncol - 1) - middle): truncation towards zero.
  const low = Math.trunc(clip(smin + middle, 0, ncol - 1) - middle);
  const high = Math.trunc(clip(smax + middle, 0, ncol - 1) - middle);
  const start = Math.floor(ncol / 2) + low;
  const stop = Math.floor(ncol / 2) + high;
  const candidates = arange(start, stop + 0.5, 0.5);
  const metric = new VoMetric(sino, nrow, ncol, ratio, drop);
  return candidates[argmin(candidates.map(c => metric.at(2 * (c - middle))))];
}

function searchFine(
  sino: Float32Array,
  nrow: number,
  ncol: number,
  srad: number,
  step: number,
  init: number,
  ratio: number,
  drop: number
): number {
  const middle = (ncol - 1) / 2;
  const radius = clip(Math.abs(srad), 1, ncol / 4);
  const stride = clip(Math.abs(step), 0.1, radius);
  const start = clip(init, radius, ncol - radius - 1);
  const candidates = arange(-radius, radius + stride, stride).map(offset => start + offset);
  const metric = new VoMetric(sino, nrow, ncol, ratio, drop);
  return candidates[argmin(candidates.map(c => metric.at(2 * (c - middle))))];
}

/**
 * TomoPy's _calculate_metric for one sinogram: the mean over the whole spectrum of
 * |fftshift(fft2([sino; shifted flipped sino]))| × mask. The upper half's row transforms do not
 * depend on the shift and are computed once; only the columns the mask touches are transformed.
 */
class VoMetric {
  private readonly flipped: Float32Array;
  private readonly flippedSplines: Float64Array;
  private readonly topRe: Float64Array;
  private readonly topIm: Float64Array;
  private readonly bottom: Float32Array;
  private readonly bottomRe: Float64Array;
  private readonly bottomIm: Float64Array;
  /** For each column of the unshifted spectrum, its rows inside the mask. */
  private readonly maskedRows: Int32Array[];
  private readonly rowFft: Fft;
  private readonly columnFft: Fft;

  constructor(
    private readonly sino: Float32Array,
    private readonly nrow: number,
    private readonly ncol: number,
    ratio: number,
    drop: number
  ) {
    this.flipped = new Float32Array(nrow * ncol);
    this.flippedSplines = new Float64Array(nrow * ncol);
    for (let r = 0; r < nrow; r++) {
      for (let j = 0; j < ncol; j++) this.flipped[r * ncol + j] = sino[r * ncol + ncol - 1 - j];
      const row = this.flipped.subarray(r * ncol, (r + 1) * ncol);
      this.flippedSplines.set(cubicSplineCoefficients(row), r * ncol);
    }
    this.rowFft = new Fft(ncol);
    this.columnFft = new Fft(2 * nrow);
    [this.topRe, this.topIm] = this.rowTransforms(sino);
    this.bottom = new Float32Array(nrow * ncol);
    this.bottomRe = new Float64Array(nrow * ncol);
    this.bottomIm = new Float64Array(nrow * ncol);
    this.maskedRows = spectrumMask(2 * nrow, ncol, 0.5 * ratio * ncol, drop);
  }

  at(shiftValue: number): number {
    const shift = Math.fround(shiftValue); // TomoPy passes the shifts as float32
    this.shiftFlipped(shift);
    const [re, im] = this.rowTransforms(this.bottom, this.bottomRe, this.bottomIm);
    const { nrow, ncol } = this;
    const n = 2 * nrow;
    const columnRe = new Float64Array(n);
    const columnIm = new Float64Array(n);
    let sum = 0;
    // The input is real, so F[r][ncol - c] = conj F[n - r][c]: one column transform serves the
    // column and its mirror.
    for (let c = 0; c <= ncol - c; c++) {
      const mirrored = mod(ncol - c, ncol);
      const rows = this.maskedRows[c];
      const mirroredRows = mirrored === c ? EMPTY : this.maskedRows[mirrored];
      if (rows.length === 0 && mirroredRows.length === 0) continue;
      for (let r = 0; r < nrow; r++) {
        columnRe[r] = this.topRe[r * ncol + c];
        columnIm[r] = this.topIm[r * ncol + c];
        columnRe[nrow + r] = re[r * ncol + c];
        columnIm[nrow + r] = im[r * ncol + c];
      }
      this.columnFft.forward(columnRe, columnIm);
      for (const r of rows) sum += Math.sqrt(columnRe[r] ** 2 + columnIm[r] ** 2);
      for (const r of mirroredRows) {
        const m = mod(n - r, n);
        sum += Math.sqrt(columnRe[m] ** 2 + columnIm[m] ** 2);
      }
    }
    return Math.fround(sum / (n * ncol)); // TomoPy keeps the metric as float32
  }

  /** The lower half: the flipped sinogram shifted right by `shift`, its vacated edge filled from
   *  the upside-down sinogram. */
  private shiftFlipped(shift: number): void {
    const { nrow, ncol, sino, bottom } = this;
    const integer = Math.floor(shift) === shift;
    for (let r = 0; r < nrow; r++) {
      const out = bottom.subarray(r * ncol, (r + 1) * ncol);
      const flippedRow = this.flipped.subarray(r * ncol, (r + 1) * ncol);
      if (integer) {
        for (let j = 0; j < ncol; j++) out[j] = flippedRow[mod(j - shift, ncol)]; // np.roll
      } else {
        shiftRow(this.flippedSplines.subarray(r * ncol, (r + 1) * ncol), shift, out);
      }
      // sino3 = flipud(sino); sino_shift[:, :k] = sino3[:, :k] (or [:, k:] for negative shifts).
      const upsideDown = sino.subarray((nrow - 1 - r) * ncol, (nrow - r) * ncol);
      const edge = shift >= 0 ? Math.ceil(shift) : Math.floor(shift);
      if (edge >= 0) for (let j = 0; j < Math.min(edge, ncol); j++) out[j] = upsideDown[j];
      else for (let j = Math.max(0, ncol + edge); j < ncol; j++) out[j] = upsideDown[j];
    }
  }

  /** Row FFTs of a real nrow × ncol array, two rows per complex transform. */
  private rowTransforms(
    real: Float32Array,
    re: Float64Array = new Float64Array(this.nrow * this.ncol),
    im: Float64Array = new Float64Array(this.nrow * this.ncol)
  ): [Float64Array, Float64Array] {
    const { nrow, ncol } = this;
    const zr = new Float64Array(ncol);
    const zi = new Float64Array(ncol);
    for (let r = 0; r < nrow; r += 2) {
      const paired = r + 1 < nrow;
      for (let j = 0; j < ncol; j++) {
        zr[j] = real[r * ncol + j];
        zi[j] = paired ? real[(r + 1) * ncol + j] : 0;
      }
      this.rowFft.forward(zr, zi);
      // Z = A + iB with A, B real: A[k] = (Z[k] + conj Z[-k]) / 2, B[k] = (Z[k] - conj Z[-k]) / 2i.
      for (let k = 0; k < ncol; k++) {
        const m = k === 0 ? 0 : ncol - k;
        const a = r * ncol + k;
        re[a] = (zr[k] + zr[m]) / 2;
        im[a] = (zi[k] - zi[m]) / 2;
        if (paired) {
          const b = (r + 1) * ncol + k;
          re[b] = (zi[k] + zi[m]) / 2;
          im[b] = (zr[m] - zr[k]) / 2;
        }
      }
    }
    return [re, im];
  }
}

/**
 * TomoPy's _create_mask (Eq. 3 of Vo 2014): ones outside the double wedge of the spectrum of an
 * nrow × ncol sinogram, rows around the middle and the three middle columns dropped. Returned
 * per column of the unshifted spectrum (fftshift undone), as the list of its masked rows.
 */
function spectrumMask(nrow: number, ncol: number, radius: number, drop: number): Int32Array[] {
  const du = 1 / ncol;
  const dv = (nrow - 1) / (nrow * 2 * Math.PI);
  const centerRow = Math.ceil(nrow / 2) - 1;
  const centerCol = Math.ceil(ncol / 2) - 1;
  const dropped = Math.min(drop, Math.ceil(0.05 * nrow));
  const columns: number[][] = Array.from({ length: ncol }, () => []);
  for (let i = 0; i < nrow; i++) {
    if (i >= centerRow - dropped && i <= centerRow + dropped) continue;
    const pos = Math.ceil(((i - centerRow) * dv) / radius / du);
    const from = clip(Math.min(-pos + centerCol, pos + centerCol), 0, ncol - 1);
    const to = clip(Math.max(-pos + centerCol, pos + centerCol), 0, ncol - 1);
    for (let j = from; j <= to; j++) {
      if (j >= centerCol - 1 && j <= centerCol + 1) continue;
      // fftshift(F)[i][j] = F[(i - nrow // 2) mod nrow][(j - ncol // 2) mod ncol]
      const column = mod(j - Math.floor(ncol / 2), ncol);
      columns[column].push(mod(i - Math.floor(nrow / 2), nrow));
    }
  }
  return columns.map(rows => Int32Array.from(rows));
}

/**
 * scipy.ndimage.gaussian_filter(image, (sigmaRows, sigmaCols), mode='reflect') of a float32
 * image: separable, truncated at 4 σ, rows axis first, float32 between the passes.
 */
function gaussianFilter(
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
 *  with a normalised Gaussian, reflecting at the ends (d c b a | a b c d | d c b a). */
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
        sum += weights[k + radius] * input[base + reflect(i + k, length) * stride];
      }
      output[base + i * stride] = sum;
    }
  }
  return output;
}

function reflect(index: number, length: number): number {
  const period = 2 * length;
  const i = mod(index, period);
  return i < length ? i : period - 1 - i;
}

/** TomoPy's _downsample: halve both axes `level` times by averaging neighbours (an odd last row
 *  or column is dropped; TomoPy's numpy slicing would fail there). */
function downsample(
  image: Float32Array,
  rows: number,
  cols: number,
  level: number
): { data: Float32Array; rows: number; cols: number } {
  let data = image;
  for (let l = 0; l < level; l++) {
    const halfRows = Math.floor(rows / 2);
    const byRows = new Float32Array(halfRows * cols);
    for (let r = 0; r < halfRows; r++) {
      for (let j = 0; j < cols; j++) {
        byRows[r * cols + j] = 0.5 * (data[2 * r * cols + j] + data[(2 * r + 1) * cols + j]);
      }
    }
    const halfCols = Math.floor(cols / 2);
    const byCols = new Float32Array(halfRows * halfCols);
    for (let r = 0; r < halfRows; r++) {
      for (let j = 0; j < halfCols; j++) {
        byCols[r * halfCols + j] = 0.5 * (byRows[r * cols + 2 * j] + byRows[r * cols + 2 * j + 1]);
      }
    }
    [data, rows, cols] = [byCols, halfRows, halfCols];
  }
  return { data, rows, cols };
}

// scipy.ndimage cubic spline interpolation (order=3, prefilter=True) along one row. For
// mode='constant' scipy prefilters with mirror boundaries, reads coefficients past the ends
// mirrored, and gives cval (0) for positions outside [0, n - 1].
const SPLINE_POLE = Math.sqrt(3) - 2;

function cubicSplineCoefficients(samples: Float32Array): Float64Array {
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
function shiftRow(coefficients: Float64Array, shift: number, out: Float32Array): void {
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
      ((1 - t) * (1 - t) * (1 - t) * coefficients[mirror(start, n)] +
        (4 - 6 * t2 + 3 * t3) * coefficients[mirror(start + 1, n)] +
        (1 + 3 * t + 3 * t2 - 3 * t3) * coefficients[mirror(start + 2, n)] +
        t3 * coefficients[mirror(start + 3, n)]) /
      6;
  }
}

/** Whole-sample mirror (… c b | a b c … | … b a b): scipy's index mapping for spline orders. */
function mirror(index: number, length: number): number {
  if (length <= 1) return 0;
  const period = 2 * length - 2;
  const i = mod(index, period);
  return i < length ? i : period - i;
}

// ---------------------------------------------------------------------------------------------
// Complex FFT of any length: iterative radix-2 for powers of two; (small odd) × 2^k by radix-2
// transforms of the interleaved parts and one odd-point combination (640 = 5 × 128); Bluestein's
// chirp-z transform through a power of two otherwise.

// Largest odd factor combined directly: its cost is odd² per output group.
const LARGEST_DIRECT_ODD_FACTOR = 15;

interface Transform {
  forward(re: Float64Array, im: Float64Array): void;
}

class Fft implements Transform {
  private readonly plan: Transform;

  constructor(readonly n: number) {
    let odd = n;
    while (odd % 2 === 0) odd /= 2;
    if (odd === 1) this.plan = new Radix2Fft(n);
    else if (odd <= LARGEST_DIRECT_ODD_FACTOR) this.plan = new OddTimesPowerOfTwoFft(n, odd);
    else this.plan = new BluesteinFft(n);
  }

  /** In place: X[k] = Σ x[j] exp(-2πi jk / n). */
  forward(re: Float64Array, im: Float64Array): void {
    this.plan.forward(re, im);
  }
}

/** n = p · m with p odd and small, m a power of two: X[k + u·m] = Σ_q W_n^(q(k + u·m)) Y_q[k],
 *  Y_q the m-point transform of x[q], x[q + p], x[q + 2p], .... */
class OddTimesPowerOfTwoFft implements Transform {
  private readonly sub: Radix2Fft;
  private readonly m: number;
  private readonly twiddleRe: Float64Array;
  private readonly twiddleIm: Float64Array;
  /** W_p^(qu) at [q·p + u]. */
  private readonly smallRe: Float64Array;
  private readonly smallIm: Float64Array;
  private readonly partsRe: Float64Array;
  private readonly partsIm: Float64Array;
  private readonly termRe: Float64Array;
  private readonly termIm: Float64Array;

  constructor(
    n: number,
    private readonly p: number
  ) {
    this.m = n / p;
    this.sub = new Radix2Fft(this.m);
    this.twiddleRe = new Float64Array(n);
    this.twiddleIm = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      this.twiddleRe[j] = Math.cos((2 * Math.PI * j) / n);
      this.twiddleIm[j] = -Math.sin((2 * Math.PI * j) / n);
    }
    this.smallRe = new Float64Array(p * p);
    this.smallIm = new Float64Array(p * p);
    for (let q = 0; q < p; q++) {
      for (let u = 0; u < p; u++) {
        this.smallRe[q * p + u] = Math.cos((2 * Math.PI * ((q * u) % p)) / p);
        this.smallIm[q * p + u] = -Math.sin((2 * Math.PI * ((q * u) % p)) / p);
      }
    }
    this.partsRe = new Float64Array(n);
    this.partsIm = new Float64Array(n);
    this.termRe = new Float64Array(p);
    this.termIm = new Float64Array(p);
  }

  forward(re: Float64Array, im: Float64Array): void {
    const { p, m, sub, twiddleRe, twiddleIm, smallRe, smallIm, partsRe, partsIm } = this;
    const { termRe, termIm } = this;
    for (let q = 0; q < p; q++) {
      for (let j = 0; j < m; j++) {
        partsRe[q * m + j] = re[q + p * j];
        partsIm[q * m + j] = im[q + p * j];
      }
      sub.forward(partsRe, partsIm, q * m);
    }
    for (let k = 0; k < m; k++) {
      for (let q = 0; q < p; q++) {
        const wr = twiddleRe[q * k];
        const wi = twiddleIm[q * k];
        const yr = partsRe[q * m + k];
        const yi = partsIm[q * m + k];
        termRe[q] = yr * wr - yi * wi;
        termIm[q] = yr * wi + yi * wr;
      }
      for (let u = 0; u < p; u++) {
        let sumRe = 0;
        let sumIm = 0;
        for (let q = 0; q < p; q++) {
          const wr = smallRe[q * p + u];
          const wi = smallIm[q * p + u];
          sumRe += termRe[q] * wr - termIm[q] * wi;
          sumIm += termRe[q] * wi + termIm[q] * wr;
        }
        re[k + u * m] = sumRe;
        im[k + u * m] = sumIm;
      }
    }
  }
}

/** X[k] = w_k Σ_j (x_j w_j) conj(w_(k-j)) with w_k = exp(-iπk²/n): a convolution, done with
 *  power-of-two FFTs of length ≥ 2n - 1. */
class BluesteinFft implements Transform {
  private readonly inner: Radix2Fft;
  private readonly chirpRe: Float64Array;
  private readonly chirpIm: Float64Array;
  private readonly kernelRe: Float64Array;
  private readonly kernelIm: Float64Array;
  private readonly workRe: Float64Array;
  private readonly workIm: Float64Array;

  constructor(private readonly n: number) {
    let m = 1;
    while (m < 2 * n - 1) m *= 2;
    this.inner = new Radix2Fft(m);
    this.chirpRe = new Float64Array(n);
    this.chirpIm = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      // k² reduced mod 2n keeps the angle exact for large k.
      const angle = (Math.PI * ((k * k) % (2 * n))) / n;
      this.chirpRe[k] = Math.cos(angle);
      this.chirpIm[k] = -Math.sin(angle);
    }
    this.kernelRe = new Float64Array(m);
    this.kernelIm = new Float64Array(m);
    for (let k = 0; k < n; k++) {
      this.kernelRe[k] = this.chirpRe[k];
      this.kernelIm[k] = -this.chirpIm[k];
      if (k > 0) {
        this.kernelRe[m - k] = this.chirpRe[k];
        this.kernelIm[m - k] = -this.chirpIm[k];
      }
    }
    this.inner.forward(this.kernelRe, this.kernelIm);
    this.workRe = new Float64Array(m);
    this.workIm = new Float64Array(m);
  }

  forward(re: Float64Array, im: Float64Array): void {
    const { n, inner, chirpRe, chirpIm, kernelRe, kernelIm, workRe, workIm } = this;
    const m = workRe.length;
    workRe.fill(0);
    workIm.fill(0);
    for (let k = 0; k < n; k++) {
      workRe[k] = re[k] * chirpRe[k] - im[k] * chirpIm[k];
      workIm[k] = re[k] * chirpIm[k] + im[k] * chirpRe[k];
    }
    inner.forward(workRe, workIm);
    // Multiply by the kernel's spectrum and conjugate, so that a forward FFT inverts.
    for (let k = 0; k < m; k++) {
      const r = workRe[k] * kernelRe[k] - workIm[k] * kernelIm[k];
      const i = workRe[k] * kernelIm[k] + workIm[k] * kernelRe[k];
      workRe[k] = r;
      workIm[k] = -i;
    }
    inner.forward(workRe, workIm);
    for (let k = 0; k < n; k++) {
      const r = workRe[k] / m;
      const i = -workIm[k] / m;
      re[k] = r * chirpRe[k] - i * chirpIm[k];
      im[k] = r * chirpIm[k] + i * chirpRe[k];
    }
  }
}

class Radix2Fft implements Transform {
  private readonly reversed: Uint32Array;
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;

  constructor(readonly n: number) {
    this.reversed = new Uint32Array(n);
    const bits = Math.round(Math.log2(n));
    for (let i = 0; i < n; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.reversed[i] = r;
    }
    this.cos = new Float64Array(n >> 1);
    this.sin = new Float64Array(n >> 1);
    for (let k = 0; k < n / 2; k++) {
      this.cos[k] = Math.cos((2 * Math.PI * k) / n);
      this.sin[k] = -Math.sin((2 * Math.PI * k) / n);
    }
  }

  /** In place on re/im[offset, offset + n). */
  forward(re: Float64Array, im: Float64Array, offset = 0): void {
    const { n, reversed, cos, sin } = this;
    for (let i = 0; i < n; i++) {
      const j = reversed[i];
      if (j > i) {
        let t = re[offset + i];
        re[offset + i] = re[offset + j];
        re[offset + j] = t;
        t = im[offset + i];
        im[offset + i] = im[offset + j];
        im[offset + j] = t;
      }
    }
    for (let size = 2; size <= n; size *= 2) {
      const half = size / 2;
      const tableStep = n / size;
      // Twiddle outermost: it is loaded once per stage and k.
      for (let k = 0; k < half; k++) {
        const wr = cos[k * tableStep];
        const wi = sin[k * tableStep];
        for (let a = offset + k; a < offset + n; a += size) {
          const b = a + half;
          const tr = re[b] * wr - im[b] * wi;
          const ti = re[b] * wi + im[b] * wr;
          re[b] = re[a] - tr;
          im[b] = im[a] - ti;
          re[a] += tr;
          im[a] += ti;
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------

function clip(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
}

function mod(value: number, modulus: number): number {
  const r = value % modulus;
  return r < 0 ? r + modulus : r;
}

/** np.arange(start, stop, step) for floats: ceil((stop - start) / step) values start + i·step. */
function arange(start: number, stop: number, step: number): number[] {
  const count = Math.max(0, Math.ceil((stop - start) / step));
  return Array.from({ length: count }, (_, i) => start + i * step);
}

/** np.argmin: the first index of the smallest value. */
function argmin(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] < values[best]) best = i;
  return best;
}
