/**
 * Seedable random numbers for the Mini-Apps.
 *
 * `Random` is xoshiro128** (Blackman & Vigna, 2018) keyed by whole numbers such as (seed,
 * producer, sequence number): the same key gives the same draws in every process and on every
 * machine, since it uses only 32-bit integer arithmetic, Math.log and Math.sqrt (both exact or
 * fdlibm in V8). Any message can so be regenerated from its key to check a consumer.
 *
 * `SparkXorShiftRandom` is Spark's `org.apache.spark.util.random.XORShiftRandom` with
 * java.util.Random's `nextDouble` and `nextGaussian` on top, bit for bit (checked against Spark
 * 3.5.1 and 2.4.8 on JDK 17), so that Spark's `StreamingKMeans.setRandomCenters(dim, weight,
 * seed)` gives the same centres here.
 */
import { MiniAppInputError } from './errors.js';

const TWO_POW_26 = 67_108_864;
const TWO_POW_32 = 4_294_967_296;
export const TWO_POW_MINUS_53 = 1 / 9_007_199_254_740_992;

/** MurmurHash3's 32-bit finaliser: a bijection that spreads each input bit over the output. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

// One start value per state word, so the four words are four different hashes of the key.
const LANE_STARTS = [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344] as const;

export class Random {
  // xoshiro128**'s 128-bit state as four int32 values.
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /**
   * A generator keyed by whole numbers from 0 to 2^53 − 1, e.g. `new Random(seed, producer,
   * sequence)`. Different keys give unrelated streams; the same key the same stream.
   */
  constructor(...key: number[]) {
    const words: number[] = [key.length];
    key.forEach((value, index) => {
      if (!Number.isSafeInteger(value) || value < 0)
        throw new MiniAppInputError(
          `random key[${index}] = ${JSON.stringify(value)}: expected a whole number from 0 to 2^53 − 1`
        );
      words.push(value >>> 0, Math.floor(value / TWO_POW_32));
    });
    const state = LANE_STARTS.map(start => {
      let h = fmix32(start);
      for (const word of words) h = fmix32(Math.imul(h ^ word, 0x9e3779b1) ^ start);
      return h;
    });
    [this.s0, this.s1, this.s2, this.s3] = state;
    // The all-zero state is xoshiro's one fixed point.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The next 32 random bits as a whole number from 0 to 2^32 − 1. */
  nextUint32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotateLeft(Math.imul(s1, 5), 7), 9);
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotateLeft(this.s3, 11);
    return result >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits (two 32-bit draws). */
  nextDouble(): number {
    const high = this.nextUint32() >>> 5;
    const low = this.nextUint32() >>> 6;
    return (high * TWO_POW_26 + low) * TWO_POW_MINUS_53;
  }

  /** Fills `out` with uniform draws in [low, high). */
  fillUniform(out: Float64Array, low = 0, high = 1): Float64Array {
    const width = high - low;
    for (let i = 0; i < out.length; i++) out[i] = low + width * this.nextDouble();
    return out;
  }

  /** Fills `out` with whole numbers uniform in [0, bound) (bias below bound / 2^53). */
  fillIndex(out: Int32Array, bound: number): Int32Array {
    for (let i = 0; i < out.length; i++) out[i] = Math.floor(this.nextDouble() * bound);
    return out;
  }

  /**
   * Fills `out` with normal draws (Marsaglia's polar method, two per accepted pair). An odd
   * length drops the last spare, so a fill never depends on what earlier calls drew.
   */
  fillGaussian(out: Float64Array, mean = 0, standardDeviation = 1): Float64Array {
    const length = out.length;
    for (let i = 0; i < length; i += 2) {
      let u: number, v: number, s: number;
      do {
        u = 2 * this.nextDouble() - 1;
        v = 2 * this.nextDouble() - 1;
        s = u * u + v * v;
      } while (s >= 1 || s === 0);
      const scale = standardDeviation * Math.sqrt((-2 * Math.log(s)) / s);
      out[i] = mean + u * scale;
      if (i + 1 < length) out[i + 1] = mean + v * scale;
    }
    return out;
  }
}

/** A 32-bit rotation (also Spark's seed hash uses it). */
export function rotateLeft(x: number, bits: number): number {
  return (x << bits) | (x >>> (32 - bits));
}
