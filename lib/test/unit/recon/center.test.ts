import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  findCenter,
  findCenterVo,
  voSinogram,
  type SliceReconstructor
} from '../../../src/recon/center.js';
import { readDataExchange } from '../../../src/recon/data-exchange.js';
import { ReconInputError } from '../../../src/recon/errors.js';
import { minusLog, normalize } from '../../../src/recon/preprocess.js';
import type { ProjectionStack } from '../../../src/recon/types.js';
import { sharedDataDir } from '../../support/paths.js';

// --- Test-only geometry: an analytic disc phantom and a plain filtered back-projection. ---
// Detector pixel j sits at t = j - center; the image pixel (row, col) at x = col + 0.5 - n/2,
// y = row + 0.5 - n/2. Any convention works as long as projector and reconstructor agree.

interface Disc {
  x: number;
  y: number;
  radius: number;
  density: number;
}

const phantom: Disc[] = [
  { x: 0, y: 0, radius: 30, density: 1 },
  { x: -10, y: 8, radius: 9, density: 1.5 },
  { x: 12, y: -6, radius: 6, density: -0.6 },
  { x: 5, y: 17, radius: 4, density: 2 }
];

function evenAngles(count: number): Float64Array {
  return Float64Array.from({ length: count }, (_, i) => (Math.PI * i) / count);
}

/** Exact line integrals of the discs, axis at detector position `center`. */
function projectDiscs(discs: Disc[], theta: Float64Array, pixels: number, center: number) {
  const sinogram = new Float32Array(theta.length * pixels);
  theta.forEach((angle, a) => {
    for (let j = 0; j < pixels; j++) {
      const t = j - center;
      let sum = 0;
      for (const disc of discs) {
        const d = t - (disc.x * Math.cos(angle) + disc.y * Math.sin(angle));
        if (Math.abs(d) < disc.radius)
          sum += 2 * disc.density * Math.sqrt(disc.radius ** 2 - d * d);
      }
      sinogram[a * pixels + j] = sum;
    }
  });
  return sinogram;
}

/** Ram-Lak filtered back-projection (spatial kernel of Kak & Slaney) onto pixels × pixels. */
function filteredBackProjection(theta: Float64Array, pixels: number): SliceReconstructor {
  const kernel = new Float64Array(2 * pixels - 1);
  for (let k = -(pixels - 1); k < pixels; k++) {
    kernel[k + pixels - 1] = k === 0 ? 0.25 : k % 2 === 0 ? 0 : -1 / (Math.PI * k) ** 2;
  }
  const cos = theta.map(Math.cos);
  const sin = theta.map(Math.sin);
  return (sinogram, center) => {
    const angles = theta.length;
    const filtered = new Float64Array(angles * pixels);
    for (let a = 0; a < angles; a++) {
      for (let j = 0; j < pixels; j++) {
        // The kernel is 1/4 at 0 and zero at the other even offsets.
        let sum = 0.25 * sinogram[a * pixels + j];
        for (let i = (j + 1) % 2; i < pixels; i += 2) {
          sum += sinogram[a * pixels + i] * kernel[j - i + pixels - 1];
        }
        filtered[a * pixels + j] = sum;
      }
    }
    const n = pixels;
    const image = new Float32Array(n * n);
    for (let a = 0; a < angles; a++) {
      for (let row = 0; row < n; row++) {
        const y = row + 0.5 - n / 2;
        for (let col = 0; col < n; col++) {
          const x = col + 0.5 - n / 2;
          const position = center + x * cos[a] + y * sin[a];
          const left = Math.floor(position);
          if (left < 0 || left + 1 >= pixels) continue;
          const w = position - left;
          image[row * n + col] +=
            (1 - w) * filtered[a * pixels + left] + w * filtered[a * pixels + left + 1];
        }
      }
    }
    for (let i = 0; i < image.length; i++) image[i] *= Math.PI / angles;
    return image;
  };
}

describe('findCenter (entropy, tomopy.recon.find_center)', () => {
  const pixels = 96;
  const theta = evenAngles(180);
  const trueCenter = pixels / 2 + 3.5;
  const sinogram = projectDiscs(phantom, theta, pixels, trueCenter);
  const reconstruct = filteredBackProjection(theta, pixels);

  it('recovers an off-centre axis of a synthetic sinogram within 0.5 px', () => {
    const result = findCenter(sinogram, theta.length, pixels, reconstruct);
    console.log(`synthetic: true centre ${trueCenter}, found ${result.center}`, result);
    expect(Math.abs(result.center - trueCenter)).toBeLessThan(0.5);
    expect(result.evaluations).toBeGreaterThan(3);
  });

  it('finds the middle for a centred axis and obeys init and tolerance', () => {
    const centred = projectDiscs(phantom, theta, pixels, 47.25);
    const coarse = findCenter(centred, theta.length, pixels, reconstruct, { init: 44 });
    expect(Math.abs(coarse.center - 47.25)).toBeLessThan(0.5);
    const fine = findCenter(centred, theta.length, pixels, reconstruct, {
      init: 44,
      tolerance: 0.05
    });
    expect(Math.abs(fine.center - 47.25)).toBeLessThan(0.25);
    expect(fine.evaluations).toBeGreaterThan(coarse.evaluations);
  });

  it('passes each tried centre to the reconstructor as float32, starting from pixels / 2', () => {
    const tried: number[] = [];
    findCenter(sinogram, theta.length, pixels, (s, c) => (tried.push(c), reconstruct(s, c)), {
      init: 50
    });
    expect(tried[0]).toBe(48); // histogram range from TomoPy's default centre
    expect(tried[1]).toBe(50); // then Nelder–Mead from init...
    expect(tried[2]).toBe(Math.fround(52.5)); // ... and init × 1.05
    expect(tried.every(c => c === Math.fround(c))).toBe(true);
  });

  it('rejects bad input', () => {
    expect(() => findCenter(sinogram, 179, pixels, reconstruct)).toThrow(
      new ReconInputError('the sinogram has 17280 values, not 179 angles × 96 pixels')
    );
    const broken = Float32Array.from(sinogram);
    broken[5] = Number.NaN;
    broken[9] = Infinity;
    expect(() => findCenter(broken, 180, pixels, reconstruct)).toThrow(
      'the sinogram holds 2 NaN or infinite values; a centre cannot be found from it'
    );
    expect(() => findCenter(sinogram, 180, pixels, () => new Float32Array(10))).toThrow(
      /not a square image/
    );
  });
});

describe('findCenterVo (tomopy.recon.find_center_vo)', () => {
  it('recovers an off-centre axis of a synthetic sinogram as TomoPy does', () => {
    // 181 angles over [0, π] as in tooth.h5. (On narrow detectors, e.g. 128 px, the method
    // fails in TomoPy as here: the ±50 px coarse search then reaches degenerate overlaps.)
    const pixels = 256;
    const theta = Float64Array.from({ length: 181 }, (_, i) => (Math.PI * i) / 180);
    // [true centre, TomoPy's coarse and fine results on the same sinogram (numpy/scipy run)]
    for (const [trueCenter, coarse, fine] of [
      [140.5, 140.5, 140.5],
      [120.25, 120.5, 120.25]
    ]) {
      const sinogram = projectDiscs(phantom, theta, pixels, trueCenter);
      const result = findCenterVo(sinogram, theta.length, pixels);
      expect(result).toEqual({ center: fine, coarseCenter: coarse });
      expect(Math.abs(result.center - trueCenter)).toBeLessThanOrEqual(0.25);
    }
  }, 60_000);

  it('averages the 10 middle rows as TomoPy does, or takes the row asked for', () => {
    const rows = 12;
    const projections: ProjectionStack = {
      data: Float32Array.from({ length: 2 * rows * 3 }, (_, i) => i),
      angles: 2,
      rows,
      pixels: 3
    };
    // Rows 1..10 of angle 0 hold 3r, 3r + 1, 3r + 2: their mean is 16.5, 17.5, 18.5.
    expect(Array.from(voSinogram(projections).subarray(0, 3))).toEqual([16.5, 17.5, 18.5]);
    expect(Array.from(voSinogram(projections, 4).subarray(3, 6))).toEqual([48, 49, 50]);
    const few = { ...projections, rows: 2, data: projections.data.subarray(0, 12) };
    expect(Array.from(voSinogram(few))).toEqual([3, 4, 5, 9, 10, 11]); // the middle row
    expect(() => voSinogram(projections, 12)).toThrow(
      'row 12 is out of range: the projections have 12 rows'
    );
  });
});

describe('centre of tooth.h5', () => {
  let sinogram: Float32Array;
  let theta: Float64Array;
  const pixels = 640;

  beforeAll(async () => {
    const read = await readDataExchange(join(sharedDataDir, 'tooth.h5'), { rows: [0, 1] });
    const { stack } = minusLog(normalize(read.projections, read.white, read.dark));
    sinogram = stack.data; // one row: angles × pixels is already the sinogram of slice 0
    theta = Float64Array.from(read.theta);
  });

  it('Vo: 295.0 (coarse 294.5), as TomoPy current find_center_vo computes it', () => {
    // Reference: TomoPy's find_center_vo code run with numpy/scipy on the same sinogram.
    const result = findCenterVo(sinogram, theta.length, pixels);
    console.log('tooth slice 0, Vo:', result);
    expect(result).toEqual({ center: 295, coarseCenter: 294.5 });
  }, 120_000);

  it('entropy with a plain FBP: a plausible centre near Vo’s', () => {
    const reconstruct = filteredBackProjection(theta, pixels);
    const result = findCenter(sinogram, theta.length, pixels, reconstruct, { init: 290 });
    console.log('tooth slice 0, entropy (test FBP, init 290):', result);
    expect(result.center).toBeGreaterThan(290);
    expect(result.center).toBeLessThan(300);
  }, 300_000);
});
