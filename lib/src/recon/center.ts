import { nelderMead } from './nelder-mead.js';
import { ReconInputError } from './errors.js';
import { checkSinogram } from './sinogram-check.js';

/**
 * Automatic rotation centre, as TomoPy finds it (tomopy/recon/rotation.py):
 * - findCenter (here): the centre whose reconstruction has the least histogram entropy
 *   (find_center), in the convention of the reconstructor it is given;
 * - findCenterVo (center-vo.ts, re-exported): Nghia Vo's Fourier method (find_center_vo), which
 *   needs no reconstruction; its centres are detector positions with pixel j at j.
 */

export {
  findCenterVo,
  voSinogram,
  type FindCenterVoOptions,
  type FindCenterVoResult
} from './center-vo.js';

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
