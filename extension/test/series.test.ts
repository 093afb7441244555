import { describe, expect, it } from 'vitest';
import { buildLagSeries, lagRange } from '../src/kafka-lag/series';

describe('buildLagSeries', () => {
  it('puts seconds on x and total lag on y, in time order', () => {
    expect(
      buildLagSeries([
        { t: 3000, totalLag: 5 },
        { t: 1000, totalLag: 9 },
        { t: 2000, totalLag: 7 }
      ])
    ).toEqual([
      [1, 2, 3],
      [9, 7, 5]
    ]);
  });

  it('keeps the latest value of samples with the same time (x must increase strictly)', () => {
    expect(
      buildLagSeries([
        { t: 1000, totalLag: 9 },
        { t: 1000, totalLag: 8 },
        { t: 1500, totalLag: 4 }
      ])
    ).toEqual([
      [1, 1.5],
      [8, 4]
    ]);
  });

  it('is empty without history', () => {
    expect(buildLagSeries([])).toEqual([[], []]);
  });
});

describe('lagRange', () => {
  it('starts at zero with some head room', () => {
    expect(
      lagRange([
        [1, 2],
        [600, 400]
      ])
    ).toEqual([0, 660]);
  });

  it('is never empty, even when nothing lags', () => {
    expect(lagRange([[1], [0]])).toEqual([0, 1]);
    expect(lagRange([[], []])).toEqual([0, 1]);
  });
});
