import { describe, expect, it } from 'vitest';
import { FILTER_NAMES } from '../../../src/recon/filters.js';
import { GridrecPlan } from '../../../src/recon/gridrec/gridrec.js';
import { reconstruct } from '../../../src/recon/reconstruct.js';
import { readReference, referenceCase, referenceStack, relativeL2 } from './fixtures.js';

const reference = referenceCase();
const { angles, slices, pixels } = reference;
const { sinograms } = referenceStack();

describe('GridRec against TomoPy', () => {
  it.each(FILTER_NAMES)('matches gridrec_%s.npy to 2e-2 (relative L2)', async filter => {
    const ours = await reconstruct(sinograms, angles, { algorithm: 'gridrec', filter, threads: 1 });
    const expected = readReference(`gridrec_${filter}`);
    expect([ours.slices, ours.size, ours.size]).toEqual(expected.shape);
    const error = relativeL2(ours.data, expected.data);
    console.log(`gridrec ${filter}: relative L2 error ${error.toExponential(2)}`);
    expect(error).toBeLessThanOrEqual(2e-2);
  });

  it('gives each slice alone what it gives it paired with its neighbour', async () => {
    const plan = await GridrecPlan.create({ angles, pixels, size: pixels, filter: 'shepp' });
    const first = new Float32Array(pixels * pixels);
    const second = new Float32Array(pixels * pixels);
    plan.reconstructPair(reference.sinogram(2), reference.sinogram(3), 24, first, second);
    const alone = new Float32Array(pixels * pixels);
    plan.reconstructPair(reference.sinogram(3), undefined, 24, alone, undefined);
    expect(relativeL2(alone, second)).toBeLessThan(1e-6);
    plan.reconstructPair(reference.sinogram(2), undefined, 24, alone, undefined);
    expect(relativeL2(alone, first)).toBeLessThan(1e-6);
  });

  it('moves the image with the rotation centre', async () => {
    const middle = await reconstruct(sinograms, angles, { algorithm: 'gridrec', threads: 1 });
    const shifted = await reconstruct(sinograms, angles, {
      algorithm: 'gridrec',
      center: 20,
      threads: 1
    });
    expect(relativeL2(shifted.data, middle.data)).toBeGreaterThan(0.1);
    expect([...shifted.centers]).toEqual(new Array(slices).fill(20));
  });
});
