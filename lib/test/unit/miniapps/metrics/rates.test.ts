import { describe, expect, it } from 'vitest';
import { MiniAppInputError } from '../../../../src/miniapps/errors.js';
import { RateSeries, ratePerSecond } from '../../../../src/miniapps/metrics/rates.js';

const START = 1_700_000_000_000;

describe('RateSeries', () => {
  it('counts messages and bytes per 1 s window', () => {
    const series = new RateSeries({ startMs: START });
    series.addProduced(START + 10, 1, 100);
    series.addProduced(START + 999, 2, 200);
    series.addProcessed(START + 1000, 1, 100);
    series.addProduced(START + 3500, 1, 50);
    expect(series.windows()).toEqual([
      {
        startMs: START,
        durationMs: 1000,
        producedMessages: 3,
        producedBytes: 300,
        processedMessages: 0,
        processedBytes: 0
      },
      {
        startMs: START + 1000,
        durationMs: 1000,
        producedMessages: 0,
        producedBytes: 0,
        processedMessages: 1,
        processedBytes: 100
      },
      {
        startMs: START + 2000,
        durationMs: 1000,
        producedMessages: 0,
        producedBytes: 0,
        processedMessages: 0,
        processedBytes: 0
      },
      {
        startMs: START + 3000,
        durationMs: 1000,
        producedMessages: 1,
        producedBytes: 50,
        processedMessages: 0,
        processedBytes: 0
      }
    ]);
    expect(series.totals()).toEqual({
      producedMessages: 4,
      producedBytes: 350,
      processedMessages: 1,
      processedBytes: 100
    });
  });

  it('gives a window per second', () => {
    const series = new RateSeries({ startMs: 0, windowMs: 250 });
    for (let i = 0; i < 50; i++) series.addProcessed(i, 1, 1000);
    const [window] = series.windows();
    expect(ratePerSecond(window)).toEqual({
      producedMessages: 0,
      producedBytes: 0,
      processedMessages: 200,
      processedBytes: 200_000
    });
  });

  it('gives the rate over the last N seconds, counting the window in progress', () => {
    const series = new RateSeries({ startMs: 0 });
    for (let ms = 0; ms < 10_300; ms += 10) series.addProduced(ms, 1, 10); // 100 msg/s
    // Windows 5 … 10 cover 5.0 s … 10.3 s.
    const rate = series.rateOverLast(5, 10_300);
    expect(rate.producedMessages).toBeCloseTo(100, 9);
    expect(rate.producedBytes).toBeCloseTo(1000, 9);
    expect(rate.processedMessages).toBe(0);
    // Over more than the run so far: since the start.
    expect(series.rateOverLast(60, 10_300).producedMessages).toBeCloseTo(100, 9);
    // Nothing after the last message: the rate falls.
    expect(series.rateOverLast(2, 12_000).producedMessages).toBeCloseTo(30 / 2, 9);
  });

  it('keeps only the newest windows but totals for the whole run', () => {
    const series = new RateSeries({ startMs: 0, maxWindows: 5 });
    for (let second = 0; second < 12; second++) series.addProduced(second * 1000 + 1, second);
    const windows = series.windows();
    expect(windows.map(window => window.startMs)).toEqual([7000, 8000, 9000, 10_000, 11_000]);
    expect(windows.map(window => window.producedMessages)).toEqual([7, 8, 9, 10, 11]);
    expect(series.totals().producedMessages).toBe(66);
    // Too old for the ring, or before the start: totals only.
    series.addProcessed(2500, 3);
    series.addProcessed(-1, 4);
    expect(series.outside).toBe(7);
    expect(series.totals().processedMessages).toBe(7);
    expect(series.windows().map(window => window.processedMessages)).toEqual([0, 0, 0, 0, 0]);
  });

  it('reuses ring slots from zero after a long gap', () => {
    const series = new RateSeries({ startMs: 0, maxWindows: 3 });
    series.addProduced(500, 5);
    series.addProduced(1500, 6);
    series.addProduced(100_500, 7);
    expect(series.windows().map(window => window.producedMessages)).toEqual([0, 0, 7]);
  });

  it('merges another node’s series and survives JSON', () => {
    const a = new RateSeries({ startMs: 0 });
    const b = new RateSeries({ startMs: 0 });
    a.addProduced(100, 10, 1000);
    a.addProduced(2100, 5, 500);
    b.addProcessed(1100, 8, 800);
    b.addProcessed(3100, 7, 700);
    const copy = RateSeries.fromJSON(JSON.parse(JSON.stringify(b)));
    expect(copy.toJSON()).toEqual(b.toJSON());
    a.merge(copy);
    expect(a.windows().map(w => [w.producedMessages, w.processedMessages])).toEqual([
      [10, 0],
      [0, 8],
      [5, 0],
      [0, 7]
    ]);
    expect(a.totals()).toEqual({
      producedMessages: 15,
      producedBytes: 1500,
      processedMessages: 15,
      processedBytes: 1500
    });
  });

  it.each([
    [() => new RateSeries({ startMs: NaN }), 'startMs = NaN: expected a clock time in ms'],
    [() => new RateSeries({ startMs: 0, windowMs: 0 }), 'windowMs = 0: expected a positive number'],
    [
      () => new RateSeries({ startMs: 0, maxWindows: 1.5 }),
      'maxWindows = 1.5: expected a whole number of windows, at least 1'
    ],
    [
      () => new RateSeries({ startMs: 0 }).addProduced(0, -1),
      'producedMessages = -1: expected a count, at least 0'
    ],
    [
      () => new RateSeries({ startMs: 0 }).merge(new RateSeries({ startMs: 5 })),
      'rate series starting at 5 ms with 1000 ms windows: expected the start 0 ms'
    ],
    [
      () =>
        RateSeries.fromJSON({
          ...new RateSeries({ startMs: 0 }).toJSON(),
          windows: [
            {
              startMs: 0,
              durationMs: 1000,
              producedMessages: -4,
              producedBytes: 0,
              processedMessages: 0,
              processedBytes: 0
            }
          ]
        }),
      'rates.windows[0].producedMessages = -4: expected a count, at least 0'
    ]
  ])('rejects bad input (%#)', (action, message) => {
    expect(action).toThrow(MiniAppInputError);
    expect(action).toThrow(message);
  });
});
