import FFT from 'fft.js';

/**
 * Complex DFT of any length on split re/im arrays, in place: X[k] = Σ x[j] exp(-2πi jk / n), as
 * numpy.fft.fft. Powers of two go straight to fft.js; other lengths use Bluestein's chirp-z
 * transform, a convolution done with fft.js at a power of two. Zero-padding to a power of two
 * instead would change the spectrum (and Vo's centre: checked against TomoPy on noisy sinograms).
 *
 * A band of frequencies may be asked for: the chirp-z convolution then needs a power of two of
 * only n + count - 1 instead of 2n - 1 (Vo's metric reads a narrow band of each row's spectrum).
 */

/** The frequencies k = from, from + 1, …, from + count - 1, taken mod n (from may be negative). */
export interface FrequencyBand {
  readonly from: number;
  readonly count: number;
}

type Plan = (re: Float64Array, im: Float64Array) => void;

export class Fft {
  private readonly plan: Plan;

  constructor(
    readonly size: number,
    band?: FrequencyBand
  ) {
    if (!Number.isInteger(size) || size < 1)
      throw new Error(`an FFT of ${size} points is not possible`);
    const { from, count } = band ?? { from: 0, count: size };
    if (!Number.isInteger(from) || !Number.isInteger(count) || count < 1) {
      throw new Error(`the frequency band from ${from} of ${count} values is not possible`);
    }
    if (size === 1) this.plan = identity;
    else if (isPowerOfTwo(size)) this.plan = powerOfTwoPlan(size, from, count);
    else if (count >= size) this.plan = bluesteinPlan(size, 0, size);
    else this.plan = bluesteinPlan(size, from, count);
  }

  /** X[k] for every k of the band (all k by default); the other entries are zeroed. */
  forward(re: Float64Array, im: Float64Array): void {
    if (re.length < this.size || im.length < this.size) {
      throw new Error(`an FFT of ${this.size} points was given ${re.length} values`);
    }
    this.plan(re, im);
  }
}

/** A 1-point DFT is its input. */
function identity(): void {}

function isPowerOfTwo(n: number): boolean {
  return (n & (n - 1)) === 0;
}

function powerOfTwoPlan(n: number, from: number, count: number): Plan {
  const fft = new FFT(n);
  // fft.js works on interleaved arrays and needs distinct input and output.
  const input = new Float64Array(2 * n);
  const output = new Float64Array(2 * n);
  const outside = count >= n ? [] : bandComplement(n, from, count);
  return (re, im) => {
    for (let k = 0; k < n; k++) {
      input[2 * k] = re[k];
      input[2 * k + 1] = im[k];
    }
    fft.transform(output, input);
    for (let k = 0; k < n; k++) {
      re[k] = output[2 * k];
      im[k] = output[2 * k + 1];
    }
    for (const k of outside) re[k] = im[k] = 0;
  };
}

/**
 * Chirp-z: with w(t) = exp(-iπt²/n), jk = (j² + k² - (k - j)²) / 2 gives
 * X[k] = w(k) Σ_j (x_j w(j)) conj(w(k - j)), a convolution of n inputs with a kernel at offsets
 * k - j ∈ [from - (n - 1), from + count - 1]: cyclic at a power of two m ≥ n + count - 1.
 */
function bluesteinPlan(n: number, from: number, count: number): Plan {
  let m = 2;
  while (m < n + count - 1) m *= 2;
  const fft = new FFT(m);
  const chirp = (t: number): [number, number] => {
    // t² reduced mod 2n keeps the angle exact for large t (w has period 2n in t²).
    const angle = (Math.PI * ((t * t) % (2 * n))) / n;
    return [Math.cos(angle), -Math.sin(angle)];
  };
  const inputChirp = chirpTable(n, 0, chirp);
  const outputChirp = chirpTable(count, from, chirp);
  // conj(w(from + s)) at s mod m, scaled by 1/m (the inverse transform's scale), and its spectrum.
  const kernel = new Float64Array(2 * m);
  for (let s = -(n - 1); s < count; s++) {
    const [re, im] = chirp(from + s);
    const at = 2 * ((s + m) % m);
    kernel[at] = re / m;
    kernel[at + 1] = -im / m;
  }
  const kernelSpectrum = new Float64Array(2 * m);
  fft.transform(kernelSpectrum, kernel);
  const targets = Int32Array.from({ length: count }, (_, t) => (((from + t) % n) + n) % n);

  // fft.js only reads its input, so the zero tail [2n, 2m) of `work` is written once.
  const work = new Float64Array(2 * m);
  const spectrum = new Float64Array(2 * m);
  const convolved = new Float64Array(2 * m);
  return (re, im) => {
    for (let j = 0; j < n; j++) {
      const wr = inputChirp[2 * j];
      const wi = inputChirp[2 * j + 1];
      work[2 * j] = re[j] * wr - im[j] * wi;
      work[2 * j + 1] = re[j] * wi + im[j] * wr;
    }
    fft.transform(spectrum, work);
    // The inverse as conj(FFT(conj(·))): conjugate the product here and the result below.
    for (let k = 0; k < 2 * m; k += 2) {
      const r = spectrum[k] * kernelSpectrum[k] - spectrum[k + 1] * kernelSpectrum[k + 1];
      const i = spectrum[k] * kernelSpectrum[k + 1] + spectrum[k + 1] * kernelSpectrum[k];
      spectrum[k] = r;
      spectrum[k + 1] = -i;
    }
    fft.transform(convolved, spectrum);
    if (count < n) {
      re.fill(0, 0, n);
      im.fill(0, 0, n);
    }
    for (let t = 0; t < count; t++) {
      const r = convolved[2 * t];
      const i = -convolved[2 * t + 1];
      const wr = outputChirp[2 * t];
      const wi = outputChirp[2 * t + 1];
      re[targets[t]] = r * wr - i * wi;
      im[targets[t]] = r * wi + i * wr;
    }
  };
}

/** Interleaved w(from), w(from + 1), …, w(from + count - 1). */
function chirpTable(
  count: number,
  from: number,
  chirp: (t: number) => [number, number]
): Float64Array {
  const table = new Float64Array(2 * count);
  for (let t = 0; t < count; t++) [table[2 * t], table[2 * t + 1]] = chirp(from + t);
  return table;
}

/** The indices in [0, n) outside the band. */
function bandComplement(n: number, from: number, count: number): number[] {
  const inside = new Uint8Array(n);
  for (let t = 0; t < count; t++) inside[(((from + t) % n) + n) % n] = 1;
  return Array.from({ length: n }, (_, k) => k).filter(k => inside[k] === 0);
}
