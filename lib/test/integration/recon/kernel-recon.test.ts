import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCells, texts, type CellResult } from '../../support/kernel-cells.js';
import { sharedDataDir } from '../../support/paths.js';
import { createPilotTestHome, type PilotTestHome } from '../../support/pilot-home.js';

/** The image/png of a cell's rich outputs, decoded. */
function pngOf(cell: CellResult): PNG | undefined {
  for (const output of cell.outputs) {
    const data = output.content.data as Record<string, unknown> | undefined;
    const png = data?.['image/png'];
    if (typeof png === 'string') return PNG.sync.read(Buffer.from(png, 'base64'));
  }
  return undefined;
}

describe('reconstruction in notebook cells', () => {
  let test: PilotTestHome;
  beforeAll(async () => {
    test = await createPilotTestHome();
  });
  afterAll(async () => {
    await test.cleanup();
  });

  it('loads the tooth, finds its centre, and shows a reconstructed slice as an image', async () => {
    const tooth = JSON.stringify(join(sharedDataDir, 'tooth.h5'));
    const [load, slices, single, bad] = await runCells(test, [
      `const tooth = await recon.load(${tooth});\n` +
        'console.log(tooth.sinograms.slices, tooth.angles.length, tooth.sinograms.pixels)',
      "const images = await recon.reconstruct(tooth.sinograms, tooth.angles, { algorithm: 'gridrec', center: 'auto' });\nimages",
      "const stream = await recon.createReconstructor(tooth.angles, 640, { algorithm: 'fbp', filter: 'ramlak', center: images.centers[0] });\n" +
        'recon.show(stream.reconstruct(tooth.sinograms.data.subarray(0, 181 * 640)))',
      "await recon.reconstruct(tooth.sinograms, tooth.angles, { algorithm: 'art' })"
    ]);
    expect(load.status).toBe('ok');
    expect(texts(load).join('')).toContain('2 181 640');

    expect(slices.status).toBe('ok');
    expect(texts(slices).join('\n')).toMatch(
      /2 slices of 640×640 by gridrec, centre 29\d\.\d\d found automatically/
    );
    const image = pngOf(slices);
    expect(image?.width).toBe(640);
    expect(image?.height).toBe(640);
    // A tooth, not a blank: the grey levels spread over the whole range.
    const levels = new Set(image?.data.filter((_, i) => i % 4 === 0));
    expect(levels.size).toBeGreaterThan(200);

    expect(single.status).toBe('ok');
    expect(pngOf(single)?.width).toBe(640);

    expect(bad.status).toBe('error');
    expect(texts(bad).join('\n')).toContain(
      'ReconInputError: algorithm = "art" is not a reconstruction algorithm: expected one of gridrec, fbp, bp, mlem, sirt'
    );
  });
});
