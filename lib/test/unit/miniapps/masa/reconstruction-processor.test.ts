import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReconstructionProcessor } from '../../../../src/miniapps/masa/reconstruction-processor.js';
import { LightSourceSource } from '../../../../src/miniapps/mass/lightsource-source.js';
import {
  decodeMessage,
  encodeMessage,
  newRunId
} from '../../../../src/miniapps/messages/format.js';
import { relativeL2 } from '../../../../src/recon/image-metrics.js';
import { loadSinograms } from '../../../../src/recon/load.js';
import { reconstruct } from '../../../../src/recon/reconstruct.js';
import { sharedDataDir } from '../../../support/paths.js';

const tooth = join(sharedDataDir, 'tooth.h5');

const largestDifference = (a: Float32Array, b: Float32Array) =>
  a.reduce((most, v, i) => Math.max(most, Math.abs(v - b[i])), 0);

describe('light-source messages reconstructed by the MASA processor', () => {
  it('give the offline reconstruction of the same rows (to 1e-6)', async () => {
    const source = await LightSourceSource.open({ file: tooth, rotationCenter: 296 });
    const processor = new ReconstructionProcessor({ algorithm: 'gridrec', filter: 'shepp' });
    const runId = newRunId();
    const { sinograms, angles } = await loadSinograms(tooth);
    const offline = await reconstruct(sinograms, angles, {
      algorithm: 'gridrec',
      filter: 'shepp',
      center: 296,
      threads: 1
    });
    for (let sequence = 0; sequence < 4; sequence++) {
      const { header, payload } = source.message(sequence);
      const bytes = encodeMessage({ ...header, runId, producerId: 0, sequence }, payload);
      const result = await processor.process(decodeMessage(bytes));
      const row = sequence % 2;
      expect(result.firstRow).toBe(row);
      expect(result.center).toBe(296);
      // Offline, GridRec pairs the two rows in one complex transform; alone, a row differs from
      // that in float32 rounding only (about 5e-8 on values up to 0.014).
      const expected = offline.data.subarray(row * 640 * 640, (row + 1) * 640 * 640);
      expect(largestDifference(result.images, expected)).toBeLessThan(1e-6);
      expect(relativeL2(result.images, expected)).toBeLessThan(1e-5);
    }
  });

  it('pairs one-slice messages into one GridRec transform, as offline, when given several', async () => {
    const source = await LightSourceSource.open({ file: tooth, rotationCenter: 296 });
    const processor = new ReconstructionProcessor({ algorithm: 'gridrec' });
    const runId = newRunId();
    const { sinograms, angles } = await loadSinograms(tooth);
    const offline = await reconstruct(sinograms, angles, {
      algorithm: 'gridrec',
      center: 296,
      threads: 1
    });
    const messages = [0, 1, 2].map(sequence => {
      const { header, payload } = source.message(sequence);
      return decodeMessage(encodeMessage({ ...header, runId, producerId: 0, sequence }, payload));
    });
    const results = await processor.processMany(messages);
    expect(results.map(r => [r.firstRow, r.slices])).toEqual([
      [0, 1],
      [1, 1],
      [0, 1]
    ]);
    // Rows 0 and 1 went through the same transform as offline: the same numbers.
    expect(largestDifference(results[0]!.images, offline.data.subarray(0, 640 * 640))).toBe(0);
    expect(
      largestDifference(results[1]!.images, offline.data.subarray(640 * 640, 2 * 640 * 640))
    ).toBe(0);
    expect(largestDifference(results[2]!.images, offline.data.subarray(0, 640 * 640))).toBeLessThan(
      1e-6
    );
  });

  it('finds the centre once when the messages carry none', async () => {
    const source = await LightSourceSource.open({ file: tooth, slicesPerMessage: 3 });
    const { header, payload } = source.message(0);
    expect(header.shape).toEqual([3, 181, 640]);
    const bytes = encodeMessage(
      { ...header, runId: newRunId(), producerId: 1, sequence: 0 },
      payload
    );
    const result = await new ReconstructionProcessor({ algorithm: 'fbp' }).process(
      decodeMessage(bytes)
    );
    expect(result.slices).toBe(3);
    expect(result.center).toBeGreaterThan(290);
    expect(result.center).toBeLessThan(300);
  });

  it('refuses bad options at once and messages it cannot reconstruct', async () => {
    expect(() => new ReconstructionProcessor({ algorithm: 'art' as 'gridrec' })).toThrow(
      /algorithm = "art" is not a reconstruction algorithm/
    );
    expect(
      () => new ReconstructionProcessor({ algorithm: 'gridrec', filter: 'blackman' as 'shepp' })
    ).toThrow(/filter = "blackman" is not a reconstruction filter: expected one of none, shepp/);
    const points = encodeMessage(
      { kind: 'points', shape: [2, 3], runId: newRunId(), producerId: 0, sequence: 7 },
      new Float64Array(6)
    );
    await expect(
      new ReconstructionProcessor({ algorithm: 'gridrec' }).process(decodeMessage(points))
    ).rejects.toThrow(
      /message 7 of producer 0 holds points \(float64\): a reconstruction consumer expects sinograms/
    );
    await expect(
      LightSourceSource.open({ file: join(sharedDataDir, 'missing.h5') })
    ).rejects.toThrow(/lightsource file: file \S*missing\.h5 does not exist/);
  });
});
