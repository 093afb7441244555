/**
 * Latency in bounded memory: a log-linear histogram in the manner of HdrHistogram. Each power of
 * two from 1 µs up is split into 128 equal buckets, so a bucket is at most 1/128 of its lower
 * bound wide and its midpoint within 0.4 % of every value in it: two significant digits for any
 * number of samples in 4097 counters (32 KB). Consumers on several nodes each keep one and
 * merge them through `toJSON` / `fromJSON`.
 */
import { MiniAppInputError } from '../errors.js';

const LOWEST_MS = 0.001;
const SUB_BUCKETS = 128;
// 1 µs · 2^32 ≈ 71.6 min covers an hour; larger values land in the top bucket.
const OCTAVES = 32;
// Bucket 0 holds [0, 1 µs).
const BUCKETS = 1 + OCTAVES * SUB_BUCKETS;
const FORMAT = 'log-linear';

/** The histogram as JSON; `buckets` lists [index, count] for the non-empty buckets only. */
export interface LatencyHistogramJSON {
  readonly format: typeof FORMAT;
  readonly lowestMs: number;
  readonly subBucketsPerOctave: number;
  readonly octaves: number;
  readonly count: number;
  readonly sumMs: number;
  readonly minMs: number | null;
  readonly maxMs: number | null;
  readonly negative: number;
  readonly buckets: readonly (readonly [number, number])[];
}

/** What a run record keeps of a histogram, in milliseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly minMs: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

function octaveOf(units: number): number {
  let octave = Math.floor(Math.log2(units));
  // Math.log2 may round across a power of two; the powers themselves are exact.
  if (2 ** octave > units) octave--;
  else if (2 ** (octave + 1) <= units) octave++;
  return octave;
}

function bucketOf(ms: number): number {
  const units = ms / LOWEST_MS;
  if (units < 1) return 0;
  const octave = octaveOf(units);
  if (octave >= OCTAVES) return BUCKETS - 1;
  const sub = Math.min(SUB_BUCKETS - 1, Math.floor((units / 2 ** octave - 1) * SUB_BUCKETS));
  return 1 + octave * SUB_BUCKETS + sub;
}

function bucketLowMs(index: number): number {
  if (index === 0) return 0;
  const octave = Math.floor((index - 1) / SUB_BUCKETS);
  const sub = (index - 1) % SUB_BUCKETS;
  return LOWEST_MS * 2 ** octave * (1 + sub / SUB_BUCKETS);
}

function bucketMiddleMs(index: number): number {
  return (bucketLowMs(index) + bucketLowMs(index + 1)) / 2;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  private total = 0;
  private sum = 0;
  private min = Infinity;
  private max = -Infinity;
  private negatives = 0;

  /** Samples recorded. */
  get count(): number {
    return this.total;
  }

  /**
   * Samples below 0 ms, recorded as 0: a consumer's clock behind the producer's. A run record
   * reports them so that skewed clocks do not pass for low latency.
   */
  get negative(): number {
    return this.negatives;
  }

  /** Records `count` samples of `ms` milliseconds. */
  record(ms: number, count = 1): void {
    if (!Number.isFinite(ms))
      throw new MiniAppInputError(`latency = ${ms} ms: expected a finite number of milliseconds`);
    if (!Number.isSafeInteger(count) || count < 1)
      throw new MiniAppInputError(
        `count = ${count}: expected a whole number of samples, at least 1`
      );
    if (ms < 0) {
      this.negatives += count;
      ms = 0;
    }
    this.counts[bucketOf(ms)] += count;
    this.total += count;
    this.sum += ms * count;
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
  }

  /**
   * The p-th percentile (0 … 100, nearest rank: the smallest recorded value with at least p %
   * of the samples at or below it), within 0.4 % for values from 1 µs to about 71 min; p = 0
   * and p = 100 give the exact minimum and maximum. NaN when nothing was recorded.
   */
  percentile(p: number): number {
    if (!(p >= 0 && p <= 100))
      throw new MiniAppInputError(`p = ${p}: expected a percentile from 0 to 100`);
    if (this.total === 0) return NaN;
    if (p === 0) return this.min;
    if (p === 100) return this.max;
    // p · total first: (p / 100) · total would round 95 % of 1000 up to rank 951.
    const rank = Math.max(1, Math.ceil((p * this.total) / 100));
    let seen = 0;
    for (let index = 0; index < BUCKETS; index++) {
      seen += this.counts[index];
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, bucketMiddleMs(index)));
    }
    return this.max;
  }

  /** Mean latency; NaN when nothing was recorded. */
  mean(): number {
    return this.total === 0 ? NaN : this.sum / this.total;
  }

  /** p50, p95, p99 and the extremes; undefined when nothing was recorded. */
  summary(): LatencySummary | undefined {
    if (this.total === 0) return undefined;
    return {
      count: this.total,
      minMs: this.min,
      meanMs: this.mean(),
      p50Ms: this.percentile(50),
      p95Ms: this.percentile(95),
      p99Ms: this.percentile(99),
      maxMs: this.max
    };
  }

  /** Adds another histogram's samples to this one. */
  merge(other: LatencyHistogram): this {
    for (let index = 0; index < BUCKETS; index++) this.counts[index] += other.counts[index];
    this.total += other.total;
    this.sum += other.sum;
    this.negatives += other.negatives;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
    return this;
  }

  toJSON(): LatencyHistogramJSON {
    const buckets: [number, number][] = [];
    this.counts.forEach((count, index) => {
      if (count > 0) buckets.push([index, count]);
    });
    return {
      format: FORMAT,
      lowestMs: LOWEST_MS,
      subBucketsPerOctave: SUB_BUCKETS,
      octaves: OCTAVES,
      count: this.total,
      sumMs: this.sum,
      minMs: this.total === 0 ? null : this.min,
      maxMs: this.total === 0 ? null : this.max,
      negative: this.negatives,
      buckets
    };
  }

  /** A histogram from `toJSON()` output; `key` names it in errors. */
  static fromJSON(input: unknown, key = 'histogram'): LatencyHistogram {
    if (input === null || typeof input !== 'object')
      throw new MiniAppInputError(
        `${key} = ${JSON.stringify(input)}: expected a latency histogram object from toJSON()`
      );
    const json = input as Record<string, unknown>;
    const layout = {
      format: FORMAT,
      lowestMs: LOWEST_MS,
      subBucketsPerOctave: SUB_BUCKETS,
      octaves: OCTAVES
    };
    for (const [name, expected] of Object.entries(layout))
      if (json[name] !== expected)
        throw new MiniAppInputError(
          `${key}.${name} = ${JSON.stringify(json[name])}: expected ${JSON.stringify(expected)} (another histogram layout cannot be merged)`
        );
    const histogram = new LatencyHistogram();
    if (!Array.isArray(json.buckets))
      throw new MiniAppInputError(
        `${key}.buckets = ${JSON.stringify(json.buckets)}: expected a list of [index, count] pairs`
      );
    let previous = -1;
    json.buckets.forEach((pair: unknown, position) => {
      const [index, count] = Array.isArray(pair) ? (pair as unknown[]) : [];
      if (
        !Array.isArray(pair) ||
        pair.length !== 2 ||
        !isCount(index) ||
        index <= previous ||
        index >= BUCKETS ||
        !isCount(count) ||
        count === 0
      )
        throw new MiniAppInputError(
          `${key}.buckets[${position}] = ${JSON.stringify(pair)}: expected [index, count] with an index above ${previous} and below ${BUCKETS} and a count of at least 1`
        );
      histogram.counts[index] = count;
      histogram.total += count;
      previous = index;
    });
    if (json.count !== histogram.total)
      throw new MiniAppInputError(
        `${key}.count = ${JSON.stringify(json.count)}: expected ${histogram.total}, the sum of the bucket counts`
      );
    for (const name of ['sumMs', 'negative'] as const)
      if (typeof json[name] !== 'number' || !Number.isFinite(json[name]) || json[name] < 0)
        throw new MiniAppInputError(
          `${key}.${name} = ${JSON.stringify(json[name])}: expected a number, at least 0`
        );
    histogram.sum = json.sumMs as number;
    histogram.negatives = json.negative as number;
    if (histogram.total > 0) {
      for (const name of ['minMs', 'maxMs'] as const)
        if (typeof json[name] !== 'number' || !Number.isFinite(json[name]) || json[name] < 0)
          throw new MiniAppInputError(
            `${key}.${name} = ${JSON.stringify(json[name])}: expected the ${name === 'minMs' ? 'smallest' : 'largest'} sample in ms`
          );
      histogram.min = json.minMs as number;
      histogram.max = json.maxMs as number;
    }
    return histogram;
  }
}
