import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { findCenterWithGridrec } from '../../../src/recon/auto-center.js';
import { pearsonInCircle } from '../../../src/recon/image-metrics.js';
import { loadSinograms, type LoadedSinograms } from '../../../src/recon/load.js';
import { reconstruct } from '../../../src/recon/reconstruct.js';
import { sharedDataDir } from '../../support/paths.js';

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
