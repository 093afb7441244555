import { describe, expect, it } from 'vitest';
import { reconstruct } from '../../../src/recon/reconstruct.js';
import { referenceStack } from '../../unit/recon/fixtures.js';

// Worker threads run the compiled library (lib/dist), which the test set-up builds.
const { sinograms, angles } = referenceStack();

describe('reconstruction on worker threads', () => {
  it.each(['gridrec', 'fbp', 'mlem'] as const)(
    '%s gives on 3 threads exactly what it gives in this thread, with progress per slice',
    async algorithm => {
      const options = { algorithm, iterations: 3, filter: 'ramlak' } as const;
      const here = await reconstruct(sinograms, angles, { ...options, threads: 1 });
      const progress: number[] = [];
      const pooled = await reconstruct(
        sinograms,
        angles,
        { ...options, threads: 3 },
        { onProgress: (done, total) => progress.push(done / total) }
      );
      expect(pooled.data).toEqual(here.data);
      expect(progress.at(-1)).toBe(1);
      expect(progress.every((value, i) => i === 0 || value > progress[i - 1])).toBe(true);
    }
  );

  it('stops the workers when aborted and rejects with the reason', async () => {
    const controller = new AbortController();
    const run = reconstruct(
      sinograms,
      angles,
      { algorithm: 'mlem', iterations: 200, threads: 2 },
      { signal: controller.signal, onProgress: () => controller.abort(new Error('stop now')) }
    );
    await expect(run).rejects.toThrow('stop now');
  });
});
