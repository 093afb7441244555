import { describe, expect, it } from 'vitest';
import type { MiniAppRunSample } from '@pilot-streaming/lib/protocol';
import { buildRunSeries, valueRange } from '../src/miniapp-run/series';

function sample(t: number, produced: number, processed: number, p50: number | null = null) {
  const result: MiniAppRunSample = {
    t,
    producedPerSecond: produced,
    processedPerSecond: processed,
    p50Ms: p50,
    p99Ms: p50 === null ? null : p50 * 2
  };
  return result;
}

describe('buildRunSeries', () => {
  it('puts seconds on x and the rates and latencies on y, in time order', () => {
    expect(
      buildRunSeries([sample(3000, 30, 25, 4), sample(1000, 10, 0), sample(2000, 20, 15, 3)])
    ).toEqual([
      [1, 2, 3],
      [10, 20, 30],
      [0, 15, 25],
      [null, 3, 4],
      [null, 6, 8]
    ]);
  });

  it('keeps the latest sample of those with the same time (x must increase strictly)', () => {
    expect(
      buildRunSeries([sample(1000, 1, 1, 1), sample(1000, 2, 2, 2), sample(1500, 3, 3)])
    ).toEqual([
      [1, 1.5],
      [2, 3],
      [2, 3],
      [2, null],
      [4, null]
    ]);
  });

  it('is empty without history', () => {
    expect(buildRunSeries([])).toEqual([[], [], [], [], []]);
  });

  it('does not reorder the view it was given', () => {
    const history = [sample(2000, 2, 2), sample(1000, 1, 1)];
    buildRunSeries(history);
    expect(history.map(s => s.t)).toEqual([2000, 1000]);
  });
});

describe('valueRange', () => {
  it('starts at zero with head room over the largest value of all columns', () => {
    expect(valueRange([10, 40], [20, 30])).toEqual([0, 44]);
  });

  it('skips gaps (windows in which nothing was processed)', () => {
    expect(valueRange([null, 5, undefined], [null, 10])).toEqual([0, 11]);
  });

  it('is never empty, even with nothing to show', () => {
    expect(valueRange([0, 0])).toEqual([0, 1]);
    expect(valueRange([null])).toEqual([0, 1]);
    expect(valueRange()).toEqual([0, 1]);
  });

  it('accepts typed arrays (uPlot may hand them back)', () => {
    expect(valueRange(new Float64Array([1, 2]))).toEqual([0, 2.2]);
  });
});
