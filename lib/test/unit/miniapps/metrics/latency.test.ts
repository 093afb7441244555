import { describe, expect, it } from 'vitest';
import { MiniAppInputError } from '../../../../src/miniapps/errors.js';
import { LatencyHistogram } from '../../../../src/miniapps/metrics/latency.js';

/** mulberry32: a small seeded generator, so every run draws the same samples. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function uniform(count: number, low: number, high: number, seed: number): number[] {
  const random = seeded(seed);
  return Array.from({ length: count }, () => low + (high - low) * random());
}

/** exp(N(mu, sigma)) by Box-Muller. */
function logNormal(count: number, mu: number, sigma: number, seed: number): number[] {
  const random = seeded(seed);
  return Array.from({ length: count }, () => {
    const normal = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    return Math.exp(mu + sigma * normal);
  });
}

/** Nearest rank on the sorted samples: the definition percentile() approximates. */
function exactPercentile(sorted: number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p * sorted.length) / 100));
  return sorted[rank - 1];
}

function histogramOf(samples: number[]): LatencyHistogram {
  const histogram = new LatencyHistogram();
  for (const sample of samples) histogram.record(sample);
  return histogram;
}

const PERCENTILES = [1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99];

describe('LatencyHistogram percentiles', () => {
  it.each([
    ['uniform 0.01 … 1000 ms', uniform(200_000, 0.01, 1000, 1)],
    ['uniform 1 µs … 2 µs', uniform(50_000, 0.001, 0.002, 2)],
    ['log-normal around 3 ms', logNormal(200_000, 1, 1.5, 3)],
    ['log-normal around 10 min', logNormal(50_000, Math.log(600_000), 0.3, 4)]
  ])('%s: within 1 % of the exact sorted values', (_name, samples) => {
    const histogram = histogramOf(samples);
    const sorted = [...samples].sort((a, b) => a - b);
    for (const p of PERCENTILES) {
      const exact = exactPercentile(sorted, p);
      const relative = Math.abs(histogram.percentile(p) - exact) / exact;
      expect(relative, `p${p}`).toBeLessThanOrEqual(0.01);
      // The bucket midpoint is in fact within half of 1/128.
      expect(relative, `p${p}`).toBeLessThanOrEqual(1 / 256 + 1e-12);
    }
    expect(histogram.percentile(100)).toBe(sorted[sorted.length - 1]);
    expect(histogram.percentile(0)).toBe(sorted[0]);
    expect(histogram.count).toBe(samples.length);
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
    expect(histogram.mean()).toBeCloseTo(mean, 6);
  });

  it('takes exact powers of two and bucket edges', () => {
    const samples = [0.001, 0.002, 0.004, 1.024, 0.001 * 2 ** 20, 0.001 * (1 + 5 / 128)];
    const histogram = histogramOf(samples);
    const sorted = [...samples].sort((a, b) => a - b);
    for (const p of [1, 20, 40, 60, 80, 99]) {
      const exact = exactPercentile(sorted, p);
      expect(Math.abs(histogram.percentile(p) - exact) / exact).toBeLessThanOrEqual(
        1 / 256 + 1e-12
      );
    }
  });

  it('summarises p50, p95, p99 and the extremes', () => {
    const histogram = histogramOf(Array.from({ length: 1000 }, (_, i) => i + 1));
    const summary = histogram.summary();
    expect(summary).toBeDefined();
    expect(summary!.count).toBe(1000);
    expect(summary!.minMs).toBe(1);
    expect(summary!.maxMs).toBe(1000);
    expect(summary!.meanMs).toBe(500.5);
    expect(summary!.p50Ms / 500).toBeCloseTo(1, 2);
    expect(summary!.p95Ms / 950).toBeCloseTo(1, 2);
    expect(summary!.p99Ms / 990).toBeCloseTo(1, 2);
  });

  it('reports nothing when empty', () => {
    const histogram = new LatencyHistogram();
    expect(histogram.percentile(50)).toBeNaN();
    expect(histogram.mean()).toBeNaN();
    expect(histogram.summary()).toBeUndefined();
  });

  it('records negative latency as 0 and counts it', () => {
    const histogram = histogramOf([-3, 5, -0.5]);
    expect(histogram.negative).toBe(2);
    expect(histogram.percentile(0)).toBe(0);
    // Below 1 µs the histogram knows only that: it answers the middle of [0, 1 µs).
    expect(histogram.percentile(50)).toBe(0.0005);
    expect(histogram.percentile(100)).toBe(5);
  });

  it('keeps values beyond the range in the top bucket, and the exact maximum', () => {
    const histogram = histogramOf([10, 5 * 3_600_000]);
    expect(histogram.percentile(100)).toBe(5 * 3_600_000);
    expect(histogram.percentile(50)).toBeCloseTo(10, 1);
  });

  it('records many samples at once', () => {
    const histogram = new LatencyHistogram();
    histogram.record(2, 1_000_000);
    histogram.record(40);
    expect(histogram.count).toBe(1_000_001);
    expect(histogram.percentile(99.9999) / 2).toBeCloseTo(1, 2);
    expect(histogram.percentile(100)).toBe(40);
  });

  it.each([
    [
      () => new LatencyHistogram().record(NaN),
      'latency = NaN ms: expected a finite number of milliseconds'
    ],
    [() => new LatencyHistogram().record(Infinity), 'latency = Infinity ms'],
    [
      () => new LatencyHistogram().record(1, 0),
      'count = 0: expected a whole number of samples, at least 1'
    ],
    [() => new LatencyHistogram().percentile(101), 'p = 101: expected a percentile from 0 to 100'],
    [() => new LatencyHistogram().percentile(NaN), 'p = NaN']
  ])('rejects bad input (%#)', (action, message) => {
    expect(action).toThrow(MiniAppInputError);
    expect(action).toThrow(message);
  });
});

describe('LatencyHistogram merge and JSON', () => {
  const samples = logNormal(60_000, 0, 2, 7);

  it('merging equals recording everything in one', () => {
    const all = histogramOf(samples);
    const parts = [
      histogramOf(samples.slice(0, 10_000)),
      histogramOf(samples.slice(10_000, 35_000)),
      histogramOf(samples.slice(35_000))
    ];
    const merged = new LatencyHistogram();
    for (const part of parts) merged.merge(part);
    const { sumMs: mergedSum, ...mergedRest } = merged.toJSON();
    const { sumMs: allSum, ...allRest } = all.toJSON();
    expect(mergedRest).toEqual(allRest);
    expect(mergedSum).toBeCloseTo(allSum, 6);
    for (const p of PERCENTILES) expect(merged.percentile(p)).toBe(all.percentile(p));
  });

  it('merges into an empty histogram and from one', () => {
    const histogram = histogramOf([1, 2, 3]);
    expect(new LatencyHistogram().merge(histogram).toJSON()).toEqual(histogram.toJSON());
    expect(histogram.merge(new LatencyHistogram()).percentile(100)).toBe(3);
  });

  it('survives a JSON round trip', () => {
    const histogram = histogramOf(samples);
    histogram.record(-1);
    const text = JSON.stringify(histogram);
    const back = LatencyHistogram.fromJSON(JSON.parse(text));
    expect(back.toJSON()).toEqual(histogram.toJSON());
    expect(back.negative).toBe(1);
    for (const p of PERCENTILES) expect(back.percentile(p)).toBe(histogram.percentile(p));
    // Sparse: only the non-empty buckets travel.
    expect(text.length).toBeLessThan(40_000);
  });

  it('round-trips an empty histogram', () => {
    const json = new LatencyHistogram().toJSON();
    expect(json.minMs).toBeNull();
    expect(LatencyHistogram.fromJSON(JSON.parse(JSON.stringify(json))).toJSON()).toEqual(json);
  });

  it.each([
    [null, 'histogram = null: expected a latency histogram object from toJSON()'],
    [{ format: 'hdr' }, 'histogram.format = "hdr": expected "log-linear"'],
    [
      { subBucketsPerOctave: 64, format: 'log-linear', lowestMs: 0.001, octaves: 32 },
      'histogram.subBucketsPerOctave = 64: expected 128 (another histogram layout cannot be merged)'
    ],
    [{ count: 3 }, 'histogram.count = 3: expected 2, the sum of the bucket counts'],
    [
      {
        buckets: [
          [5, 1],
          [5, 1]
        ]
      },
      'histogram.buckets[1] = [5,1]: expected [index, count] with an index above 5'
    ],
    [{ buckets: [[99999, 2]] }, 'histogram.buckets[0] = [99999,2]'],
    [{ buckets: [[3, -2]] }, 'histogram.buckets[0] = [3,-2]'],
    [{ sumMs: 'x' }, 'histogram.sumMs = "x": expected a number, at least 0'],
    [{ maxMs: null }, 'histogram.maxMs = null: expected the largest sample in ms']
  ])('fromJSON rejects %j', (change, message) => {
    const valid = { ...histogramOf([1, 2]).toJSON() };
    const input = change === null ? null : { ...valid, ...change };
    expect(() => LatencyHistogram.fromJSON(input)).toThrow(MiniAppInputError);
    expect(() => LatencyHistogram.fromJSON(input)).toThrow(message);
  });
});
