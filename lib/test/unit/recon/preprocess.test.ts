import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readDataExchange } from '../../../src/recon/data-exchange.js';
import { ReconInputError } from '../../../src/recon/errors.js';
import {
  DEFAULT_LOG_FLOOR,
  minusLog,
  normalize,
  projectionsToSinograms,
  sinogramsToProjections
} from '../../../src/recon/preprocess.js';
import type { ProjectionStack } from '../../../src/recon/types.js';
import { sharedDataDir } from '../../support/paths.js';

// Expected values: TomoPy's normalize()/minus_log() code (numpy 2.4 + numexpr) run once on the
// same inputs, pasted here.

const stack = (
  angles: number,
  rows: number,
  pixels: number,
  values: number[]
): ProjectionStack => ({
  data: Float32Array.from(values),
  angles,
  rows,
  pixels
});

// 3 angles × 2 rows × 3 pixels; flats equal darks at (0, 2) and (1, 1) (denominator floor).
const projections = stack(
  3,
  2,
  3,
  [
    120.3, 55.1, 7.0, 1000.9, 0.0, 33.3, 130.7, 60.2, 8.5, 980.1, 3.3, 40.4, 99.9, 70.7, 9.1, 900.0,
    1.1, 50.5
  ]
);
const white = stack(
  2,
  2,
  3,
  [200.1, 100.3, 9.0, 1100.7, 2.0, 80.8, 210.4, 101.9, 9.0, 1090.1, 2.0, 79.2]
);
const dark = stack(2, 2, 3, [10.2, 5.5, 9.0, 11.1, 2.0, 3.3, 10.9, 5.1, 9.0, 12.3, 2.0, 3.9]);

describe('normalize (tomopy.prep.normalize.normalize)', () => {
  it('matches TomoPy bit for bit, including the 1e-6 denominator floor', () => {
    const out = normalize(projections, white, dark);
    expect([out.angles, out.rows, out.pixels]).toEqual([3, 2, 3]);
    expect(Array.from(out.data)).toEqual([
      0.5636877417564392, 0.519832968711853, -2000000.0, 0.9127988219261169, -2000000.0,
      0.38874343037605286, 0.6171032190322876, 0.5730689167976379, -500000.0, 0.8936052322387695,
      1300000.0, 0.4816754162311554, 0.4589111804962158, 0.6826721429824829, 100000.3828125,
      0.8196918368339539, -900000.0, 0.6138743758201599
    ]);
  });

  it('applies cutoff as an upper limit', () => {
    const out = normalize(projections, white, dark, { cutoff: 1.05 });
    expect(out.data[10]).toBe(Math.fround(1.05));
    expect(out.data[14]).toBe(Math.fround(1.05));
    expect(out.data[2]).toBe(-2000000); // no lower limit
    expect(out.data[0]).toBe(0.5636877417564392);
  });

  it('does not modify its inputs', () => {
    const before = Array.from(projections.data);
    normalize(projections, white, dark);
    expect(Array.from(projections.data)).toEqual(before);
  });

  it('rejects flats or darks of another size', () => {
    const narrow = stack(1, 2, 2, [1, 2, 3, 4]);
    expect(() => normalize(projections, narrow, dark)).toThrow(
      new ReconInputError('white fields are 2 rows × 2 pixels but the projections are 2 × 3')
    );
    expect(() => normalize(projections, white, stack(0, 2, 3, []))).toThrow(
      'there are no dark fields to average'
    );
  });

  it('matches TomoPy on tooth.h5 bit for bit', async () => {
    const read = await readDataExchange(join(sharedDataDir, 'tooth.h5'));
    const out = normalize(read.projections, read.white, read.dark);
    const at = (a: number, r: number, p: number) => out.data[(a * 2 + r) * 640 + p];
    expect(at(0, 0, 0)).toBe(Math.fround(0.99391323));
    expect(at(100, 1, 300)).toBe(Math.fround(0.38339084));
    expect(at(180, 1, 639)).toBe(Math.fround(0.9995332));
    let sum = 0;
    let min = Infinity;
    let max = -Infinity;
    for (const v of out.data) {
      sum += v;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(sum).toBe(170090.20246696472);
    expect([min, max]).toEqual([Math.fround(0.14171517), Math.fround(1.1025681)]);

    const { stack: logged, guarded } = minusLog(out);
    expect(guarded).toBe(0);
    expect(logged.data[(100 * 2 + 1) * 640 + 300]).toBeCloseTo(0.95870036, 6);
    let logSum = 0;
    let negative = 0;
    for (const v of logged.data) {
      logSum += v;
      if (v < 0) negative++;
    }
    expect(logSum).toBeCloseTo(104644.42896164578, 1);
    expect(negative).toBe(28374); // values > 1 after normalization: slightly negative -log
  });
});

describe('minusLog', () => {
  it('computes -log like TomoPy for positive values', () => {
    const input = stack(1, 1, 5, [0.5, 1.0, 2.0, 1e-3, 0.3679]);
    const { stack: out, guarded } = minusLog(input);
    expect(guarded).toBe(0);
    const expected = [
      0.6931471824645996, -0, -0.6931471824645996, 6.907755374908447, 0.9999440908432007
    ];
    out.data.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
    expect([out.angles, out.rows, out.pixels]).toEqual([1, 1, 5]);
    expect(out.data).not.toBe(input.data);
    expect(input.data[0]).toBe(0.5);
  });

  it('replaces values ≤ 0 by the floor and counts them', () => {
    const input = stack(1, 2, 3, [0.5, 0, -0.25, -0, 1, Number.NaN]);
    const { stack: out, guarded } = minusLog(input);
    expect(guarded).toBe(3);
    const floorLog = Math.fround(-Math.log(Math.fround(DEFAULT_LOG_FLOOR)));
    expect(floorLog).toBe(Math.fround(13.815511)); // np.float32(-np.log(np.float32(1e-6)))
    expect([out.data[1], out.data[2], out.data[3]]).toEqual([floorLog, floorLog, floorLog]);
    expect(out.data[5]).toBeNaN(); // NaN passes through, as in TomoPy
    const custom = minusLog(input, { floor: 1e-3 });
    expect(custom.guarded).toBe(3);
    expect(custom.stack.data[2]).toBe(Math.fround(-Math.log(Math.fround(1e-3))));
  });

  it('works in place on sinogram stacks too', () => {
    const sinograms = { data: Float32Array.of(1, Math.E, 0), slices: 1, angles: 1, pixels: 3 };
    const { stack: out, guarded } = minusLog(sinograms, { inPlace: true });
    expect(out).toBe(sinograms);
    expect(guarded).toBe(1);
    expect(sinograms.data[1]).toBeCloseTo(-1, 6);
  });

  it('rejects a floor that is not positive', () => {
    for (const floor of [0, -1, Number.NaN, Infinity]) {
      expect(() => minusLog(stack(1, 1, 1, [1]), { floor })).toThrow(ReconInputError);
    }
  });
});

describe('projection ↔ sinogram transposes', () => {
  const projectionsOf = (angles: number, rows: number, pixels: number) =>
    stack(
      angles,
      rows,
      pixels,
      Array.from({ length: angles * rows * pixels }, (_, i) => i)
    );

  it('moves detector rows to the outer axis', () => {
    const p = projectionsOf(3, 2, 4);
    const s = projectionsToSinograms(p);
    expect([s.slices, s.angles, s.pixels]).toEqual([2, 3, 4]);
    for (let a = 0; a < 3; a++) {
      for (let r = 0; r < 2; r++) {
        for (let x = 0; x < 4; x++) {
          expect(s.data[(r * 3 + a) * 4 + x]).toBe(p.data[(a * 2 + r) * 4 + x]);
        }
      }
    }
  });

  it('round-trips', () => {
    const p = projectionsOf(5, 3, 7);
    const back = sinogramsToProjections(projectionsToSinograms(p));
    expect([back.angles, back.rows, back.pixels]).toEqual([5, 3, 7]);
    expect(Array.from(back.data)).toEqual(Array.from(p.data));
  });

  it('rejects a stack whose data does not match its shape', () => {
    expect(() => projectionsToSinograms(stack(2, 2, 2, [1, 2, 3]))).toThrow(
      'the stack claims 2 × 2 × 2 = 8 values but holds 3'
    );
  });
});
