import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { findCenterWithGridrec } from '../../../src/recon/auto-center.js';
import { loadSinograms, type LoadedSinograms } from '../../../src/recon/load.js';
import { reconstruct } from '../../../src/recon/reconstruct.js';
import { sharedDataDir } from '../../support/paths.js';

/** Pearson's r over the image's inscribed circle (outside it the methods differ by design). */
function pearsonInCircle(a: Float32Array, b: Float32Array, size: number): number {
  const inside: number[] = [];
  const radius2 = (size / 2) ** 2;
  for (let i = 0; i < size; i++)
    for (let j = 0; j < size; j++)
      if ((i + 0.5 - size / 2) ** 2 + (j + 0.5 - size / 2) ** 2 < radius2)
        inside.push(i * size + j);
  const mean = (x: Float32Array) => inside.reduce((sum, k) => sum + x[k], 0) / inside.length;
  const [ma, mb] = [mean(a), mean(b)];
  let covariance = 0;
  let va = 0;
  let vb = 0;
  for (const k of inside) {
    covariance += (a[k] - ma) * (b[k] - mb);
    va += (a[k] - ma) ** 2;
    vb += (b[k] - mb) ** 2;
  }
  return covariance / Math.sqrt(va * vb);
}

describe('the APS tooth', () => {
  let tooth: LoadedSinograms;
  let center: number;
  beforeAll(async () => {
    tooth = await loadSinograms(join(sharedDataDir, 'tooth.h5'));
    const firstSlice = tooth.sinograms.data.subarray(0, 181 * 640);
    center = (await findCenterWithGridrec(firstSlice, tooth.angles, 640)).center;
  });

  it('has its rotation axis found off the detector middle', () => {
    console.log(`tooth: centre found at ${center}`);
    expect(center).toBeGreaterThan(290);
    expect(center).toBeLessThan(300);
  });

  it('reconstructs alike with our filtered FBP and GridRec (ramlak): Pearson r ≥ 0.99', async () => {
    const options = { filter: 'ramlak', center, threads: 1 } as const;
    const gridrec = await reconstruct(tooth.sinograms, tooth.angles, {
      algorithm: 'gridrec',
      ...options
    });
    const fbp = await reconstruct(tooth.sinograms, tooth.angles, { algorithm: 'fbp', ...options });
    for (let s = 0; s < 2; s++) {
      const length = 640 * 640;
      const r = pearsonInCircle(
        fbp.data.subarray(s * length, (s + 1) * length),
        gridrec.data.subarray(s * length, (s + 1) * length),
        640
      );
      console.log(`tooth slice ${s}: Pearson r of FBP and GridRec (ramlak) ${r.toFixed(5)}`);
      expect(r).toBeGreaterThanOrEqual(0.99);
    }
  });
});
