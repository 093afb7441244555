import { describe, expect, it } from 'vitest';
import { FILTER_NAMES } from '../../../src/recon/filters.js';
import { GridrecPlan } from '../../../src/recon/gridrec/gridrec.js';
import { createReconstructor, reconstruct } from '../../../src/recon/reconstruct.js';
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

describe('the streaming reconstructor', () => {
  it('reconstructs one sinogram at a time as the block API does', async () => {
    const block = await reconstruct(sinograms, angles, { algorithm: 'gridrec', threads: 1 });
    const stream = await createReconstructor(angles, pixels, { algorithm: 'gridrec' });
    const image = stream.reconstruct(reference.sinogram(5));
    expect(
      relativeL2(image, block.data.subarray(5 * pixels * pixels, 6 * pixels * pixels))
    ).toBeLessThan(1e-6);
  });

  it('reconstructs a block of sinograms two at a time as the block API does', async () => {
    const block = await reconstruct(sinograms, angles, { algorithm: 'gridrec', threads: 1 });
    const stream = await createReconstructor(angles, pixels, { algorithm: 'gridrec' });
    const length = angles.length * pixels;
    const three = stream.reconstructBlock(sinograms.data.subarray(4 * length, 7 * length), 3);
    expect(three.length).toBe(3 * pixels * pixels);
    expect(
      relativeL2(three, block.data.subarray(4 * pixels * pixels, 7 * pixels * pixels))
    ).toBeLessThan(1e-6);
    expect(() => stream.reconstructBlock(sinograms.data.subarray(0, length), 2)).toThrow(
      /sinograms have 768 values: expected slices × angles × pixels = 2 × 16 × 48/
    );
  });

  it('refuses a bad centre, a wrong-sized sinogram and angles that are not Float32Array', async () => {
    await expect(
      createReconstructor(angles, pixels, { algorithm: 'gridrec', center: 'auto' })
    ).rejects.toThrow(/a streaming reconstructor takes one centre/);
    await expect(
      createReconstructor([0, 1] as unknown as Float32Array, pixels, { algorithm: 'fbp' })
    ).rejects.toThrow(
      /angles: expected a Float32Array of the projection angles in radians, not \[object Array\]/
    );
    const stream = await createReconstructor(angles, pixels, { algorithm: 'gridrec' });
    expect(() => stream.reconstruct(new Float32Array(5))).toThrow(
      /sinogram has 5 values: expected angles × pixels = 16 × 48/
    );
    expect(() => stream.reconstruct(reference.sinogram(0), Number.NaN)).toThrow(
      /center = null: expected a rotation centre from 0 to 48/
    );
  });
});
