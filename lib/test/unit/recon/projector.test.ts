import { describe, expect, it } from 'vitest';
import { ReconInputError } from '../../../src/recon/errors.js';
import {
  backProject,
  buildSystemMatrix,
  forwardProject,
  systemMatrixFor
} from '../../../src/recon/projector/index.js';
import { RecentCache } from '../../../src/recon/recent-cache.js';

const pixels = 48;
const angles = Float32Array.from({ length: 16 }, (_, p) => (p * Math.PI) / 16);
const geometry = { pixels, angles: angles.length, center: pixels / 2, size: pixels };

/** A deterministic pseudo-random sequence in [-0.5, 0.5). */
function randomValues(count: number, seed: number): Float32Array {
  let state = seed;
  return Float32Array.from({ length: count }, () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648 - 0.5;
  });
}

describe("TomoPy's ray projector as a system matrix", () => {
  const matrix = buildSystemMatrix(angles, geometry);

  it('projects a single-pixel image to the lengths of the rays through that pixel', () => {
    const rays = new Float32Array(matrix.rows);
    for (const pixel of [0, 24 * pixels + 24, 10 * pixels + 37, pixels * pixels - 1]) {
      const image = new Float32Array(matrix.columns);
      image[pixel] = 1;
      forwardProject(matrix, image, rays);
      let total = 0;
      for (let row = 0; row < matrix.rows; row++) {
        let expected = 0;
        for (let k = matrix.rowStart[row]; k < matrix.rowStart[row + 1]; k++)
          if (matrix.pixel[k] === pixel) expected += matrix.length[k];
        expect(rays[row]).toBeCloseTo(expected, 6);
        total += rays[row];
      }
      expect(total).toBeCloseTo(matrix.columnSum[pixel], 4);
      // Rays one pixel apart cross a unit pixel for a summed length of about 1 per angle.
      if (pixel === 24 * pixels + 24) expect(Math.abs(total / angles.length - 1)).toBeLessThan(0.1);
    }
  });

  it('has Aᵀ as its transpose: ⟨Ax, y⟩ = ⟨x, Aᵀy⟩', () => {
    const x = randomValues(matrix.columns, 7);
    const y = randomValues(matrix.rows, 11);
    const ax = new Float32Array(matrix.rows);
    const aty = new Float32Array(matrix.columns);
    forwardProject(matrix, x, ax);
    backProject(matrix, y, aty);
    let left = 0;
    let right = 0;
    let scale = 0;
    for (let r = 0; r < matrix.rows; r++) {
      left += ax[r] * y[r];
      scale += Math.abs(ax[r] * y[r]);
    }
    for (let j = 0; j < matrix.columns; j++) right += x[j] * aty[j];
    expect(Math.abs(left - right) / scale).toBeLessThan(1e-5);
  });

  it('puts the rotation axis at detector coordinate `center` and image row i at x = i + ½ − size/2', () => {
    // An off-centre disc: at angle θ its shadow is centred on −x·sin θ + y·cos θ + center.
    const center = 21;
    const offAxis = buildSystemMatrix(angles, { ...geometry, center });
    const [x, y, radius] = [7, -10, 4];
    const image = new Float32Array(offAxis.columns);
    for (let i = 0; i < pixels; i++)
      for (let j = 0; j < pixels; j++)
        if ((i + 0.5 - pixels / 2 - x) ** 2 + (j + 0.5 - pixels / 2 - y) ** 2 < radius ** 2)
          image[i * pixels + j] = 1;
    const rays = new Float32Array(offAxis.rows);
    forwardProject(offAxis, image, rays);
    for (let p = 0; p < angles.length; p++) {
      let weight = 0;
      let moment = 0;
      for (let d = 0; d < pixels; d++) {
        weight += rays[p * pixels + d];
        moment += rays[p * pixels + d] * (d + 0.5);
      }
      const expected = -x * Math.sin(angles[p]) + y * Math.cos(angles[p]) + center;
      expect(Math.abs(moment / weight - expected)).toBeLessThan(0.1);
    }
  });

  it('is built once per geometry and then reused', () => {
    const first = systemMatrixFor(angles, geometry);
    expect(systemMatrixFor(Float32Array.from(angles), { ...geometry })).toBe(first);
    expect(systemMatrixFor(angles, { ...geometry, center: 23 })).not.toBe(first);
    expect(first.pixel.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it('rejects a geometry it cannot trace', () => {
    expect(() => buildSystemMatrix(angles, { ...geometry, size: 0 })).toThrow(ReconInputError);
    expect(() => buildSystemMatrix(angles, { ...geometry, center: Number.NaN })).toThrow(
      /geometry.center = NaN/
    );
  });

  it('keeps recent geometries within a count and a weight budget', () => {
    const made: string[] = [];
    const cache = new RecentCache<number>(2, 10, weight => weight);
    const get = (key: string, weight: number) =>
      cache.get(key, () => {
        made.push(key);
        return weight;
      });
    get('a', 3);
    get('b', 3);
    get('a', 3); // a is now the most recent
    get('c', 3); // over the count: b goes
    get('a', 3);
    expect(made).toEqual(['a', 'b', 'c']);
    get('d', 8); // over the budget: everything older goes, the newest stays
    get('c', 3);
    get('d', 8);
    expect(made).toEqual(['a', 'b', 'c', 'd', 'c', 'd']);
  });
});
