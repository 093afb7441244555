/**
 * Spark MLlib's StreamingKMeans (org.apache.spark.mllib.clustering.StreamingKMeans and
 * StreamingKMeansModel.update, the same rule since Spark 1.3) on Float64Arrays: the MASA's model.
 *
 * Per mini-batch, as StreamingKMeansModel.update:
 * 1. each point goes to its closest centre (squared Euclidean distance, the lowest index on a
 *    tie: KMeansModel.predict's strict `<`), and each centre's points are summed in point order;
 * 2. every weight is discounted (`BLAS.scal(discount, weights)`), discount = decayFactor for
 *    time unit 'batches' or decayFactor^(points in the batch) for 'points';
 * 3. each centre that got n > 0 points: w ← w + n, λ = n / max(w, 1e-16),
 *    c ← (1 − λ)·c (`BLAS.scal`), then c ← c + (λ / n)·sum (`BLAS.axpy`), the multiply-add
 *    fused as Spark 3.2 and later compute it on Java 11 and later (`fusedMultiplyAdd`);
 * 4. if the smallest weight is below 1e-8 × the largest (the first index of each on a tie),
 *    the smallest cluster is dying: both get weight (max + min) / 2, and the largest centre is
 *    split in two, x + p and x − p per coordinate, p = 1e-14 · max(|x|, 1).
 *
 * The arithmetic is Spark's operation for operation: 20 batches of 500 points, k = 10, give
 * Spark 3.5.1's centres and weights bit for bit (test/unit/miniapps/masa). Where results can
 * still differ from a JVM: Spark sums each partition and then merges the partitions' sums (this
 * is one partition); its predict computes distances as ‖a‖² + ‖b‖² − 2a·b where that is precise
 * enough, which can break near-ties another way; and the JVM's Math.exp, log and pow may differ
 * from V8's by an ulp (the decay factor for halfLife 2 does).
 */
import { fusedMultiplyAdd } from '../fused-multiply-add.js';
import { isTypedArrayNamed } from '../../recon/types.js';
import { nonNegativeNumber, wholeNumber } from '../checks.js';
import { MiniAppInputError } from '../errors.js';
import { SparkXorShiftRandom } from './spark-random.js';
import type { SparkSeedHash } from './spark-random.js';

export type TimeUnit = 'batches' | 'points';
export const TIME_UNITS: readonly TimeUnit[] = ['batches', 'points'];

export interface RandomCenters {
  /** The weight every centre starts with (Spark's setRandomCenters `weight`), ≥ 0. */
  readonly weight: number;
  /** A Java long: the centres are Spark's for the same seed (XORShiftRandom.nextGaussian). */
  readonly seed: number | bigint;
  /** Spark 3.0 and later hash the seed differently from Spark 2 (default 'spark3'). */
  readonly seedHash?: SparkSeedHash;
}

export interface StreamingKMeansOptions {
  /** Number of centres. */
  readonly k: number;
  /** Coordinates per point. */
  readonly dimensions: number;
  /** Forgetfulness, ≥ 0: 1 weights all batches alike, 0 keeps only the last (default 1). */
  readonly decayFactor?: number;
  /** Instead of decayFactor: data `halfLife` time units old count half (decay = 0.5^(1/halfLife)). */
  readonly halfLife?: number;
  /** What decay counts: 'batches' (default) or 'points'. */
  readonly timeUnit?: TimeUnit;
  /** Spark's setInitialCenters: k × dimensions, flat row-major or one array per centre. */
  readonly initialCenters?: Float64Array | ArrayLike<ArrayLike<number>>;
  /** The weight of each initial centre, ≥ 0 (default 0 for every centre). */
  readonly initialWeights?: ArrayLike<number>;
  /** Spark's setRandomCenters(dimensions, weight, seed), instead of initialCenters. */
  readonly randomCenters?: RandomCenters;
  /**
   * Round c·(1 − λ) + (λ / n)·sum once, as Math.fma in dev.ludovic.netlib's BLAS.axpy (Spark 3.2
   * and later on Java 11 and later: the default), or twice, as Spark 3.1 and earlier or Java 8.
   */
  readonly fusedMultiplyAdd?: boolean;
}

/** The model as the MASA widget shows it. */
export interface StreamingKMeansState {
  readonly k: number;
  readonly dimensions: number;
  readonly decayFactor: number;
  readonly timeUnit: TimeUnit;
  readonly fusedMultiplyAdd: boolean;
  readonly centers: number[][];
  readonly weights: number[];
  /** Mini-batches trained on so far. */
  readonly batches: number;
  /** Points trained on so far. */
  readonly points: number;
}

// Spark's thresholds: the smallest divisor of λ, and the weight ratio below which a cluster dies.
const MIN_UPDATED_WEIGHT = 1e-16;
const DYING_RATIO = 1e-8;
const SPLIT_PERTURBATION = 1e-14;
const MAX_K = 1 << 20;
const MAX_DIMENSIONS = 1 << 16;

/** True for a Float64Array from any realm (notebook cells have their own Float64Array). */
const isFloat64Array = (value: unknown): value is Float64Array =>
  isTypedArrayNamed(value, 'Float64Array');
const isInt32Array = (value: unknown): value is Int32Array =>
  isTypedArrayNamed(value, 'Int32Array');

function resolveDecay(options: StreamingKMeansOptions): {
  decayFactor: number;
  timeUnit: TimeUnit;
} {
  const timeUnit = options.timeUnit ?? 'batches';
  if (!TIME_UNITS.includes(timeUnit))
    throw new MiniAppInputError(
      `timeUnit = ${JSON.stringify(timeUnit)}: expected 'batches' or 'points'`
    );
  if (options.halfLife !== undefined) {
    if (options.decayFactor !== undefined)
      throw new MiniAppInputError(
        `decayFactor = ${options.decayFactor} and halfLife = ${options.halfLife}: expected one or the other`
      );
    const halfLife = options.halfLife;
    if (typeof halfLife !== 'number' || !(halfLife > 0))
      throw new MiniAppInputError(`halfLife = ${JSON.stringify(halfLife)}: expected a number > 0`);
    // setHalfLife: math.exp(math.log(0.5) / halfLife).
    return { decayFactor: Math.exp(Math.log(0.5) / halfLife), timeUnit };
  }
  return { decayFactor: nonNegativeNumber('decayFactor', options.decayFactor ?? 1), timeUnit };
}

function readCenters(
  value: Float64Array | ArrayLike<ArrayLike<number>>,
  k: number,
  dimensions: number
): Float64Array {
  const centers = new Float64Array(k * dimensions);
  if (ArrayBuffer.isView(value)) {
    if (value.length !== centers.length)
      throw new MiniAppInputError(
        `initialCenters has ${value.length} values: expected k × dimensions = ${k} × ${dimensions} = ${centers.length}`
      );
    centers.set(value);
  } else {
    if (value?.length !== k)
      throw new MiniAppInputError(`initialCenters has ${value?.length} centres: expected k = ${k}`);
    for (let c = 0; c < k; c++) {
      const row = value[c];
      if (row?.length !== dimensions)
        throw new MiniAppInputError(
          `initialCenters[${c}] has ${row?.length} values: expected dimensions = ${dimensions}`
        );
      for (let j = 0; j < dimensions; j++) centers[c * dimensions + j] = row[j];
    }
  }
  const bad = centers.findIndex(x => !Number.isFinite(x));
  if (bad >= 0)
    throw new MiniAppInputError(
      `initialCenters[${Math.floor(bad / dimensions)}][${bad % dimensions}] = ${centers[bad]}: expected a finite number`
    );
  return centers;
}

export class StreamingKMeans {
  readonly k: number;
  readonly dimensions: number;
  readonly decayFactor: number;
  readonly timeUnit: TimeUnit;
  readonly fusedMultiplyAdd: boolean;
  private readonly centerValues: Float64Array;
  private readonly weightValues: Float64Array;
  // Per-batch scratch: each centre's point count and coordinate sums, and the assignment.
  private readonly batchCounts: Float64Array;
  private readonly batchSums: Float64Array;
  private assignment = new Int32Array(0);
  private batchCount = 0;
  private pointCount = 0;

  constructor(options: StreamingKMeansOptions) {
    if (options === null || typeof options !== 'object')
      throw new MiniAppInputError(
        `StreamingKMeans options = ${JSON.stringify(options)}: expected an object with k, dimensions and centres`
      );
    this.k = wholeNumber('k', options.k, 1, MAX_K);
    this.dimensions = wholeNumber('dimensions', options.dimensions, 1, MAX_DIMENSIONS);
    ({ decayFactor: this.decayFactor, timeUnit: this.timeUnit } = resolveDecay(options));
    const fused = options.fusedMultiplyAdd ?? true;
    if (typeof fused !== 'boolean')
      throw new MiniAppInputError(
        `fusedMultiplyAdd = ${JSON.stringify(fused)}: expected true (Spark 3.2+ on Java 11+) or false`
      );
    this.fusedMultiplyAdd = fused;
    const { k, dimensions } = this;

    if ((options.initialCenters === undefined) === (options.randomCenters === undefined))
      throw new MiniAppInputError(
        'initialCenters and randomCenters: expected exactly one of them (Spark needs centres before the first batch)'
      );
    if (options.initialCenters !== undefined) {
      this.centerValues = readCenters(options.initialCenters, k, dimensions);
      this.weightValues = new Float64Array(k);
      const weights = options.initialWeights;
      if (weights !== undefined) {
        if (weights?.length !== k)
          throw new MiniAppInputError(
            `initialWeights has ${weights?.length} values: expected one per centre (k = ${k})`
          );
        for (let c = 0; c < k; c++)
          this.weightValues[c] = nonNegativeNumber(`initialWeights[${c}]`, weights[c]);
      }
    } else {
      if (options.initialWeights !== undefined)
        throw new MiniAppInputError(
          'initialWeights with randomCenters: expected randomCenters.weight instead'
        );
      const spec = options.randomCenters as RandomCenters;
      const weight = nonNegativeNumber('randomCenters.weight', spec?.weight);
      // setRandomCenters: Array.fill(k)(Array.fill(dim)(random.nextGaussian())), row by row.
      const random = new SparkXorShiftRandom(spec.seed, spec.seedHash);
      this.centerValues = new Float64Array(k * dimensions);
      for (let i = 0; i < this.centerValues.length; i++)
        this.centerValues[i] = random.nextGaussian();
      this.weightValues = new Float64Array(k).fill(weight);
    }
    this.batchCounts = new Float64Array(k);
    this.batchSums = new Float64Array(k * dimensions);
  }

  /** The centres, k × dimensions row-major (a copy). */
  get centers(): Float64Array {
    return this.centerValues.slice();
  }

  /** Each centre's weight: its discounted number of points (a copy). */
  get weights(): Float64Array {
    return this.weightValues.slice();
  }

  /** Mini-batches trained on so far. */
  get batches(): number {
    return this.batchCount;
  }

  /** Trains on one mini-batch of `count` points (default: all of `points`). */
  update(points: Float64Array, count?: number): void {
    const n = this.checkPoints(points, count);
    if (this.assignment.length < n) this.assignment = new Int32Array(n);
    this.assign(points, n, this.assignment, true);
    this.applyBatch(n);
  }

  /** Writes each point's closest centre into `out` (the model is unchanged) and returns it. */
  predict(points: Float64Array, out: Int32Array, count?: number): Int32Array {
    const n = this.checkPoints(points, count);
    this.checkOut(out, n);
    this.assign(points, n, out, false);
    return out;
  }

  /**
   * Predicts and trains in one pass: labels are the closest centres before this batch's update,
   * the assignment Spark's update makes; then the model is updated from that assignment.
   */
  trainAndPredict(points: Float64Array, out: Int32Array, count?: number): Int32Array {
    const n = this.checkPoints(points, count);
    this.checkOut(out, n);
    this.assign(points, n, out, true);
    this.applyBatch(n);
    return out;
  }

  toJSON(): StreamingKMeansState {
    const { k, dimensions } = this;
    const centers: number[][] = [];
    for (let c = 0; c < k; c++)
      centers.push(Array.from(this.centerValues.subarray(c * dimensions, (c + 1) * dimensions)));
    return {
      k,
      dimensions,
      decayFactor: this.decayFactor,
      timeUnit: this.timeUnit,
      fusedMultiplyAdd: this.fusedMultiplyAdd,
      centers,
      weights: Array.from(this.weightValues),
      batches: this.batchCount,
      points: this.pointCount
    };
  }

  private checkPoints(points: Float64Array, count: number | undefined): number {
    if (!isFloat64Array(points))
      throw new MiniAppInputError(
        `points = ${Object.prototype.toString.call(points)}: expected a Float64Array of points × dimensions`
      );
    const d = this.dimensions;
    if (points.length % d !== 0)
      throw new MiniAppInputError(
        `points has ${points.length} values: expected a multiple of dimensions = ${d}`
      );
    const available = points.length / d;
    if (count === undefined) return available;
    return wholeNumber('count', count, 0, available);
  }

  private checkOut(out: Int32Array, count: number): void {
    if (!isInt32Array(out) || out.length < count)
      throw new MiniAppInputError(
        `out = ${Object.prototype.toString.call(out)} of length ${(out as { length?: number })?.length}: expected an Int32Array of at least ${count} labels`
      );
  }

  /**
   * The closest centre of each point into `labels`; with `accumulate`, each centre's count and
   * coordinate sums into the batch scratch. Throws, leaving the model as it was, on a point with
   * a coordinate that is not finite.
   */
  private assign(points: Float64Array, n: number, labels: Int32Array, accumulate: boolean): void {
    const { k, dimensions: d } = this;
    const centers = this.centerValues;
    const counts = this.batchCounts;
    const sums = this.batchSums;
    if (accumulate) {
      counts.fill(0);
      sums.fill(0);
    }
    if (d === 3) {
      // The MASA's case, unrolled: about twice as fast as the general loop.
      for (let p = 0, o = 0; p < n; p++, o += 3) {
        const x = points[o];
        const y = points[o + 1];
        const z = points[o + 2];
        let best = 0;
        let bestDistance = Infinity;
        for (let c = 0, b = 0; c < k; c++, b += 3) {
          const dx = x - centers[b];
          const dy = y - centers[b + 1];
          const dz = z - centers[b + 2];
          const distance = dx * dx + dy * dy + dz * dz;
          if (distance < bestDistance) {
            bestDistance = distance;
            best = c;
          }
        }
        if (!(bestDistance < Infinity)) this.checkPoint(points, p);
        labels[p] = best;
        if (accumulate) {
          counts[best] += 1;
          const b = best * 3;
          sums[b] += x;
          sums[b + 1] += y;
          sums[b + 2] += z;
        }
      }
      return;
    }
    for (let p = 0, o = 0; p < n; p++, o += d) {
      let best = 0;
      let bestDistance = Infinity;
      for (let c = 0, b = 0; c < k; c++, b += d) {
        let distance = 0;
        for (let j = 0; j < d; j++) {
          const difference = points[o + j] - centers[b + j];
          distance += difference * difference;
        }
        if (distance < bestDistance) {
          bestDistance = distance;
          best = c;
        }
      }
      if (!(bestDistance < Infinity)) this.checkPoint(points, p);
      labels[p] = best;
      if (accumulate) {
        counts[best] += 1;
        const b = best * d;
        for (let j = 0; j < d; j++) sums[b + j] += points[o + j];
      }
    }
  }

  /** A point whose every distance is infinite or NaN: refused if a coordinate is not finite. */
  private checkPoint(points: Float64Array, p: number): void {
    const d = this.dimensions;
    for (let j = 0; j < d; j++) {
      const value = points[p * d + j];
      if (!Number.isFinite(value))
        throw new MiniAppInputError(
          `points[${p}][${j}] = ${value}: expected a finite number (the batch was not used)`
        );
    }
    // Finite but so far from every centre that the distance overflows: centre 0, as Spark would.
  }

  /** StreamingKMeansModel.update's steps 2 to 4 from the counts and sums of `n` points. */
  private applyBatch(n: number): void {
    const { k, dimensions: d } = this;
    const centers = this.centerValues;
    const weights = this.weightValues;
    const counts = this.batchCounts;
    const sums = this.batchSums;

    const discount = this.timeUnit === 'batches' ? this.decayFactor : this.decayFactor ** n;
    for (let c = 0; c < k; c++) weights[c] *= discount;

    for (let c = 0; c < k; c++) {
      const count = counts[c];
      if (count === 0) continue;
      const updatedWeight = weights[c] + count;
      const lambda = count / Math.max(updatedWeight, MIN_UPDATED_WEIGHT);
      weights[c] = updatedWeight;
      const keep = 1 - lambda;
      const step = lambda / count;
      for (let j = c * d, end = j + d; j < end; j++)
        centers[j] = this.fusedMultiplyAdd
          ? fusedMultiplyAdd(step, sums[j], centers[j] * keep)
          : centers[j] * keep + step * sums[j];
    }

    let largest = 0;
    let smallest = 0;
    for (let c = 1; c < k; c++) {
      if (weights[c] > weights[largest]) largest = c;
      if (weights[c] < weights[smallest]) smallest = c;
    }
    const maxWeight = weights[largest];
    const minWeight = weights[smallest];
    if (minWeight < DYING_RATIO * maxWeight) {
      const weight = (maxWeight + minWeight) / 2;
      weights[largest] = weight;
      weights[smallest] = weight;
      for (let j = 0; j < d; j++) {
        const x = centers[largest * d + j];
        const p = SPLIT_PERTURBATION * Math.max(Math.abs(x), 1);
        centers[largest * d + j] = x + p;
        centers[smallest * d + j] = x - p;
      }
    }
    this.batchCount++;
    this.pointCount += n;
  }
}
