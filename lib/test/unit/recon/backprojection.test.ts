import { describe, expect, it } from 'vitest';
import { backprojection } from '../../../src/recon/backprojection.js';
import { ReconInputError } from '../../../src/recon/errors.js';
import { readReference, reconstructReference, referenceCase, relativeL2 } from './fixtures.js';

describe("back-projection (TomoPy's algorithm='fbp')", () => {
  it("matches TomoPy's fbp.npy", () => {
    const ours = reconstructReference(backprojection);
    const error = relativeL2(ours, readReference('fbp').data);
    console.log(`bp vs fbp.npy: relative L2 error ${error.toExponential(2)}`);
    expect(error).toBeLessThanOrEqual(2e-2);
  });

  it('checks the sinogram against the geometry', () => {
    const { angles, pixels } = referenceCase();
    const geometry = { pixels, angles: angles.length, center: 24, size: pixels };
    expect(() => backprojection(new Float32Array(10), angles, geometry)).toThrow(ReconInputError);
    expect(() =>
      backprojection(new Float32Array(angles.length * pixels), angles.subarray(1), geometry)
    ).toThrow(/angles has 15 values/);
  });
});
