import { describe, expect, it } from 'vitest';
import { Fft, type FrequencyBand } from '../../../../src/recon/signal/fft.js';

/** The DFT by its definition, for comparison. */
function directDft(re: Float64Array, im: Float64Array): [Float64Array, Float64Array] {
  const n = re.length;
  const outRe = new Float64Array(n);
  const outIm = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    for (let j = 0; j < n; j++) {
      const angle = (-2 * Math.PI * ((j * k) % n)) / n;
      outRe[k] += re[j] * Math.cos(angle) - im[j] * Math.sin(angle);
      outIm[k] += re[j] * Math.sin(angle) + im[j] * Math.cos(angle);
    }
  }
  return [outRe, outIm];
}

/** Largest error relative to the largest magnitude of the expected spectrum. */
function relativeError(n: number, band?: FrequencyBand): number {
  const re = Float64Array.from({ length: n }, (_, j) => Math.sin(1.3 * j) + 0.1 * j);
  const im = Float64Array.from({ length: n }, (_, j) => Math.cos(0.7 * j * j));
  const [expectedRe, expectedIm] = directDft(re, im);
  const { from, count } = band ?? { from: 0, count: n };
  const inside = new Set(Array.from({ length: count }, (_, t) => (((from + t) % n) + n) % n));
  new Fft(n, band).forward(re, im);
  let error = 0;
  let scale = 0;
  for (let k = 0; k < n; k++) {
    const [wantRe, wantIm] = inside.has(k) ? [expectedRe[k], expectedIm[k]] : [0, 0];
    error = Math.max(error, Math.hypot(re[k] - wantRe, im[k] - wantIm));
    scale = Math.max(scale, Math.hypot(expectedRe[k], expectedIm[k]));
  }
  return error / scale;
}

describe('Fft (fft.js, Bluestein for other lengths)', () => {
  it.each([1, 2, 3, 7, 8, 12, 181, 362, 640, 1024])('matches the DFT for n = %i', n => {
    expect(relativeError(n)).toBeLessThan(1e-12);
  });

  it.each([
    [640, { from: -115, count: 231 }],
    [362, { from: 3, count: 10 }],
    [256, { from: -4, count: 9 }],
    [5, { from: -5, count: 9 }]
  ])('computes only a band of frequencies for n = %i', (n, band) => {
    expect(relativeError(n, band)).toBeLessThan(1e-12);
  });

  it('rejects impossible sizes and bands', () => {
    expect(() => new Fft(0)).toThrow('an FFT of 0 points');
    expect(() => new Fft(8, { from: 0, count: 0 })).toThrow(/not possible/);
    expect(() => new Fft(8).forward(new Float64Array(4), new Float64Array(4))).toThrow(
      'an FFT of 8 points was given 4 values'
    );
  });
});
