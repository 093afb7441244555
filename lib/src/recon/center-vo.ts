import { ReconInputError } from './errors.js';
import { checkSinogram } from './sinogram-check.js';
import { mod } from './signal/boundaries.js';
import { Fft } from './signal/fft.js';
import { gaussianFilter } from './signal/gaussian-filter.js';
import { cubicSplineCoefficients, shiftRow } from './signal/spline-shift.js';
import type { ProjectionStack } from './types.js';

/**
 * Nghia Vo's rotation centre (Vo, Drakopoulos, Atwood, Reinhard, Opt. Express 22, 19078 (2014)),
 * as tomopy.recon.find_center_vo: a 180° sinogram and its left-right flipped copy, shifted by
 * twice the distance of a candidate centre from the middle, join into a 360° sinogram whose 2-D
 * spectrum has the least energy outside the double wedge when the candidate is right. Coarse
 * search over whole and half pixels, then a fine search around it. Centres are detector
 * positions with pixel j at j, as TomoPy's. This follows TomoPy's current code step by step.
 */

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
 * depend on the shift and are computed once; only the columns the mask touches are transformed,
 * and the row transforms compute only those columns (a band of low frequencies).
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
  /** Columns 0 … spectrumColumns - 1 hold all the mask touches, folding c onto ncol - c. */
  private readonly spectrumColumns: number;
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
    this.maskedRows = spectrumMask(2 * nrow, ncol, 0.5 * ratio * ncol, drop);
    this.spectrumColumns = 0;
    for (let c = 0; c <= ncol - c; c++) {
      const mirrored = mod(ncol - c, ncol);
      if (this.maskedRows[c].length > 0 || this.maskedRows[mirrored].length > 0) {
        this.spectrumColumns = c + 1;
      }
    }
    // Unpacking two real rows from one complex transform reads Z[k] and Z[-k].
    const band = Math.max(1, 2 * this.spectrumColumns - 1);
    this.rowFft = new Fft(ncol, { from: 1 - this.spectrumColumns, count: band });
    this.columnFft = new Fft(2 * nrow);
    [this.topRe, this.topIm] = this.rowTransforms(sino);
    this.bottom = new Float32Array(nrow * ncol);
    this.bottomRe = new Float64Array(nrow * ncol);
    this.bottomIm = new Float64Array(nrow * ncol);
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
    for (let c = 0; c < this.spectrumColumns; c++) {
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

  /** Row FFTs of a real nrow × ncol array, two rows per complex transform; only the columns
   *  below spectrumColumns are filled. */
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
      for (let k = 0; k < this.spectrumColumns; k++) {
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

// numpy equivalents.

function clip(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
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
