import { describe, expect, it } from 'vitest';
import { ReconInputError } from '../../../src/recon/errors.js';
import { mlem } from '../../../src/recon/mlem.js';
import {
  readReference,
  reconstructReference,
  referenceCase,
  relativeL2,
  toothSinogram
} from './fixtures.js';

describe('ML-EM', () => {
  it("matches TomoPy's mlem.npy (4 iterations, no clipping)", () => {
    const ours = reconstructReference((sinogram, angles, geometry) =>
      mlem(sinogram, angles, geometry, { iterations: 4, clipNegative: false })
    );
    const error = relativeL2(ours, readReference('mlem').data);
    console.log(`mlem (4 iterations) vs mlem.npy: relative L2 error ${error.toExponential(2)}`);
    expect(error).toBeLessThanOrEqual(5e-2);
  });

  it('sets negative sinogram values to 0 unless told not to', () => {
    const reference = referenceCase();
    const { angles, pixels } = reference;
    const geometry = { pixels, angles: angles.length, center: pixels / 2, size: pixels };
    const noisy = reference.sinogram(3);
    for (let i = 0; i < noisy.length; i += 5) noisy[i] -= 0.5;
    expect(noisy.some(value => value < 0)).toBe(true);
    const clipped = noisy.map(value => Math.max(value, 0));

    const byDefault = mlem(noisy, angles, geometry, { iterations: 4 });
    const fromClipped = mlem(clipped, angles, geometry, { iterations: 4, clipNegative: false });
    expect(byDefault).toEqual(fromClipped);
    expect(byDefault.every(value => Number.isFinite(value) && value >= 0)).toBe(true);
    // The caller's sinogram is left as it was.
    expect(noisy.some(value => value < 0)).toBe(true);

    const unclipped = mlem(noisy, angles, geometry, { iterations: 4, clipNegative: false });
    expect(unclipped).not.toEqual(byDefault);
  });

  it('stays finite over 20 iterations on real data (the tooth, with negatives after −log)', async () => {
    const { sinogram, angles, pixels } = await toothSinogram(0, 2);
    expect(sinogram.some(value => value < 0)).toBe(true);
    const geometry = { pixels, angles: angles.length, center: pixels / 2, size: pixels };
    const image = mlem(sinogram, angles, geometry, { iterations: 20 });
    expect(image.every(value => Number.isFinite(value) && value >= 0)).toBe(true);
    expect(image.some(value => value > 0)).toBe(true);
  }, 120_000);

  it('rejects a bad iteration count', () => {
    const { angles, pixels, sinogram } = referenceCase();
    const geometry = { pixels, angles: angles.length, center: 24, size: pixels };
    expect(() => mlem(sinogram(0), angles, geometry, { iterations: 0 })).toThrow(ReconInputError);
    expect(() => mlem(sinogram(0), angles, geometry, { iterations: 1.5 })).toThrow(
      /iterations = 1.5/
    );
  });
});
