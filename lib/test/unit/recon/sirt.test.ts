import { describe, expect, it } from 'vitest';
import { sirt } from '../../../src/recon/sirt.js';
import { readReference, reconstructReference, relativeL2 } from './fixtures.js';

describe('SIRT', () => {
  // sirt.npy is 4 iterations (as TomoPy's own test runs it), not recon's default of 1.
  it("matches TomoPy's sirt.npy", () => {
    const ours = reconstructReference((sinogram, angles, geometry) =>
      sirt(sinogram, angles, geometry, { iterations: 4 })
    );
    const error = relativeL2(ours, readReference('sirt').data);
    console.log(`sirt (4 iterations) vs sirt.npy: relative L2 error ${error.toExponential(2)}`);
    expect(error).toBeLessThanOrEqual(5e-2);
  });

  it('gets closer to the data with each iteration', () => {
    const reference = readReference('sirt').data;
    const errors = [1, 2, 4].map(iterations =>
      relativeL2(
        reconstructReference((sinogram, angles, geometry) =>
          sirt(sinogram, angles, geometry, { iterations })
        ),
        reference
      )
    );
    expect(errors[0]).toBeGreaterThan(errors[1]);
    expect(errors[1]).toBeGreaterThan(errors[2]);
  });
});
