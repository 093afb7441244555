import FFT from 'fft.js';
import { ReconInputError } from './errors.js';
import { DEFAULT_FILTER_PARAMETERS, parseFilterName } from './filters.js';
import type { FilterName, FilterParameters } from './filters.js';
import { checkSlice, outputImage } from './projector/index.js';
import type { SliceGeometry } from './projector/index.js';
import { LinearBackprojector, ROW_GUARD } from './projector/linear-backprojector.js';
import { RecentCache, geometryKey } from './recent-cache.js';

export interface FbpOptions {
  /** The window on the ramp (default `shepp`, TomoPy's default name); see `rampWindow`. */
  readonly filter?: FilterName | string;
  /** Cut-off in cycles per pixel (hann, hamming, parzen, butterworth) and Butterworth order. */
  readonly filterParameters?: FilterParameters;
  /** Where to write the size × size image (overwritten); a new array when absent. */
  readonly out?: Float32Array;
}

/**
 * The window multiplying the ramp at frequency `x` (cycles per pixel, 0 … 0.5), with c the
 * cut-off and n the order from the filter parameters (default 0.5, the Nyquist frequency, and
 * 8). Every window is 1 at x = 0, so flat regions keep their value.
 *   none, ramlak  1 (the bare ramp; unlike gridrec's `none` the ramp is always applied; the
 *                 unfiltered back-projection is the `bp` algorithm)
 *   shepp         sin(πx) / (πx)
 *   cosine        cos(πx)
 *   hann          ½ (1 + cos(π x/c)), 0 beyond c
 *   hamming       0.54 + 0.46 cos(π x/c), 0 beyond c
 *   parzen        Parzen's window reaching 0 at c: 1 − 6r² + 6r³ for r = x/c ≤ ½, 2 (1 − r)³ to 1
 *   butterworth   1 / (1 + (x/c)^(2n))
 * The windows are the usual ones (TomoPy's older definitions for hann and hamming); they are
 * not tied to gridrec's, which follow TomoPy's current code to reproduce its output.
 */
export function rampWindow(name: FilterName, x: number, parameters: FilterParameters): number {
  const { cutoff, order } = parameters;
  const r = Math.abs(x) / cutoff;
  switch (name) {
    case 'none':
    case 'ramlak':
      return 1;
    case 'shepp':
      return x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    case 'cosine':
      return Math.cos(Math.PI * x);
    case 'hann':
      return r > 1 ? 0 : 0.5 * (1 + Math.cos(Math.PI * r));
    case 'hamming':
      return r > 1 ? 0 : 0.54 + 0.46 * Math.cos(Math.PI * r);
    case 'parzen':
      return r > 1 ? 0 : r <= 0.5 ? 1 - 6 * r * r + 6 * r * r * r : 2 * (1 - r) ** 3;
    case 'butterworth':
      return 1 / (1 + r ** (2 * order));
  }
}

/**
 * Filter gains for a transform of `length`: the ramp times the window. The ramp is the
 * transform of the band-limited ramp's sampled kernel (1/4 at 0, −1/(πn)² at odd n), not |f|
 * sampled in frequency, so the zero-padded convolution keeps the right mean (no cupping). It is
 * doubled to 1 at the Nyquist frequency, which the π / (2 · angles) scale of the sum expects.
 */
function filterGains(length: number, name: FilterName, parameters: FilterParameters): Float64Array {
  const kernel = new Float64Array(2 * length);
  kernel[0] = 0.25;
  for (let n = 1; n < length; n += 2) kernel[2 * n] = -1 / (Math.PI * Math.min(n, length - n)) ** 2;
  const spectrum = new Float64Array(2 * length);
  new FFT(length).transform(spectrum, kernel);
  const gains = new Float64Array(length);
  for (let k = 0; k < length; k++) {
    const frequency = Math.min(k, length - k) / length;
    gains[k] = 2 * spectrum[2 * k] * rampWindow(name, frequency, parameters);
  }
  return gains;
}

function checkFilterParameters(parameters: FilterParameters): void {
  for (const key of ['cutoff', 'order'] as const) {
    const value = parameters[key];
    if (!(value > 0) || !Number.isFinite(value))
      throw new ReconInputError(`filterParameters.${key} = ${value}: expected a positive number`);
  }
}

/** Transforms, filter gains, buffers and back-projector of one geometry and filter. */
class FbpPlan {
  private readonly length: number;
  private readonly fft: FFT;
  private readonly fineFft: FFT;
  private readonly gains: Float64Array;
  private readonly signal: Float64Array;
  private readonly spectrum: Float64Array;
  private readonly fineSpectrum: Float64Array;
  private readonly fineSignal: Float64Array;
  /** Filtered rows in the back-projector's padded layout. */
  private readonly rows: Float64Array;
  private readonly backprojector: LinearBackprojector;

  constructor(
    angles: Float32Array,
    geometry: SliceGeometry,
    filter: FilterName,
    parameters: FilterParameters
  ) {
    // Zero-padding to ≥ 2 × pixels keeps the circular convolution from wrapping onto the data.
    let length = 2;
    while (length < 2 * geometry.pixels) length *= 2;
    this.length = length;
    this.fft = new FFT(length);
    this.fineFft = new FFT(length * OVERSAMPLING);
    this.gains = filterGains(length, filter, parameters);
    this.signal = new Float64Array(2 * length);
    this.spectrum = new Float64Array(2 * length);
    this.fineSpectrum = new Float64Array(2 * length * OVERSAMPLING);
    this.fineSignal = new Float64Array(2 * length * OVERSAMPLING);
    this.backprojector = new LinearBackprojector(angles, geometry, OVERSAMPLING);
    this.rows = new Float64Array(geometry.angles * this.backprojector.rowStride);
  }

  reconstruct(sinogram: Float32Array, out: Float32Array): void {
    const { pixels, angles } = this.backprojector.geometry;
    const { length, fft, gains, signal, spectrum, rows, fineSpectrum, fineSignal } = this;
    const fineLength = length * OVERSAMPLING;
    const stride = this.backprojector.rowStride;
    // Two real rows go through one complex transform (real and imaginary part): the gains are
    // real and even, so the two filtered rows come back apart.
    for (let p = 0; p < angles; p += 2) {
      const second = p + 1 < angles;
      signal.fill(0);
      for (let d = 0; d < pixels; d++) {
        signal[2 * d] = sinogram[p * pixels + d];
        if (second) signal[2 * d + 1] = sinogram[(p + 1) * pixels + d];
      }
      fft.transform(spectrum, signal);
      // Filter, and place the spectrum into a longer one (zeros in between the positive and the
      // negative frequencies): the inverse transform then interpolates the filtered row with a
      // band-limited kernel onto OVERSAMPLING samples per pixel.
      fineSpectrum.fill(0);
      const half = length / 2;
      for (let k = 0; k < length; k++) {
        const to = k < half ? k : k === half ? k : k + fineLength - length;
        // The Nyquist bin is split between its two images.
        const gain = (k === half ? 0.5 : 1) * gains[k] * OVERSAMPLING;
        fineSpectrum[2 * to] = spectrum[2 * k] * gain;
        fineSpectrum[2 * to + 1] = spectrum[2 * k + 1] * gain;
        if (k === half) {
          fineSpectrum[2 * (fineLength - half)] = spectrum[2 * k] * gain;
          fineSpectrum[2 * (fineLength - half) + 1] = spectrum[2 * k + 1] * gain;
        }
      }
      this.fineFft.inverseTransform(fineSignal, fineSpectrum);
      const samples = pixels * OVERSAMPLING;
      for (let m = 0; m < samples; m++) {
        rows[p * stride + ROW_GUARD + m] = fineSignal[2 * m];
        if (second) rows[(p + 1) * stride + ROW_GUARD + m] = fineSignal[2 * m + 1];
      }
    }
    this.backprojector.backProject(rows, Math.PI / (2 * angles), out);
  }
}

const plans = new RecentCache<FbpPlan>(2);

/**
 * Samples per detector pixel of the filtered rows the back-projection interpolates between:
 * linear interpolation between pixels damps the high frequencies (its response is sinc²), so
 * the image would be softer than GridRec's; between band-limited samples 4× finer it is not.
 */
const OVERSAMPLING = 4;

/**
 * Filtered back-projection: each sinogram row is filtered with a windowed ramp in Fourier space
 * (zero-padded to the next power of two ≥ 2 × pixels), then back-projected pixel by pixel with
 * linear interpolation on the detector, scaled by π / (2 · angles). For angles spread evenly
 * over 180° the image is the inverse Radon transform: attenuation per pixel. Geometry and centre
 * as TomoPy's (see SliceGeometry), so it lines up with gridrec and the ray-driven methods.
 */
export function fbp(
  sinogram: Float32Array,
  angles: Float32Array,
  geometry: SliceGeometry,
  options: FbpOptions = {}
): Float32Array {
  checkSlice(sinogram, angles, geometry);
  const filter = parseFilterName(options.filter ?? 'shepp');
  const parameters = options.filterParameters ?? DEFAULT_FILTER_PARAMETERS;
  checkFilterParameters(parameters);
  const key = `${filter}/${parameters.cutoff}/${parameters.order}/${geometryKey(angles, geometry.pixels, geometry.size, geometry.center)}`;
  const plan = plans.get(key, () => new FbpPlan(angles, geometry, filter, parameters));
  const out = outputImage(options.out, geometry);
  plan.reconstruct(sinogram, out);
  return out;
}
