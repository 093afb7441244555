import { MiniAppInputError } from '../errors.js';
import { fmix32, rotateLeft, TWO_POW_MINUS_53 } from '../random.js';

/**
 * Spark's own generator, so that `setRandomCenters(dim, weight, seed)` gives Spark's initial
 * centres for the same seed (its update rule alone would not make our centres equal Spark's).
 */

const MASK_64 = (1n << 64n) - 1n;

/** Scala's MurmurHash3.bytesHash over a byte array whose length is a multiple of 4. */
function scalaBytesHash(bytes: Uint8Array, seed: number): number {
  let h = seed | 0;
  for (let i = 0; i < bytes.length; i += 4) {
    let k = bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = rotateLeft(k, 15);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = rotateLeft(h, 13);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  return fmix32(h ^ bytes.length);
}

// scala.util.hashing.MurmurHash3.arraySeed, the seed of bytesHash(bytes).
const SCALA_ARRAY_SEED = 0x3c074a61;

/**
 * How XORShiftRandom hashes its seed. Spark 3.0 and later hash the seed's 8 bytes; Spark 1.x and
 * 2.x hashed a buffer of java.lang.Long.SIZE bytes (64, the size in bits), the seed's 8 bytes
 * followed by 56 zero bytes, so the same seed gives other numbers there.
 */
export type SparkSeedHash = 'spark3' | 'spark2';

const SEED_BUFFER_BYTES: Record<SparkSeedHash, number> = { spark3: 8, spark2: 64 };

/**
 * Spark's XORShiftRandom(seed) as java.util.Random subclass: Marsaglia's 64-bit xorshift
 * (21, 35, 4) from a MurmurHash3 of the seed. BigInt keeps it exact; it only draws initial centres.
 */
export class SparkXorShiftRandom {
  private seed: bigint;
  private spareGaussian: number | undefined;

  /** `seed` is a Java long: a safe integer, or a bigint from −2^63 to 2^63 − 1. */
  constructor(seed: number | bigint, seedHash: SparkSeedHash = 'spark3') {
    if (!Object.hasOwn(SEED_BUFFER_BYTES, seedHash))
      throw new MiniAppInputError(
        `seedHash = ${JSON.stringify(seedHash)}: expected 'spark3' (Spark 3.0 and later) or 'spark2'`
      );
    if (typeof seed === 'number' ? !Number.isSafeInteger(seed) : typeof seed !== 'bigint')
      throw new MiniAppInputError(`seed = ${String(seed)}: expected a whole number (a Java long)`);
    const long = BigInt(seed);
    if (long !== BigInt.asIntN(64, long))
      throw new MiniAppInputError(`seed = ${long}: expected a Java long, from −2^63 to 2^63 − 1`);
    this.seed = SparkXorShiftRandom.hashSeed(long, SEED_BUFFER_BYTES[seedHash]);
  }

  /** XORShiftRandom.hashSeed: the seed big-endian in a buffer, hashed twice for 64 bits. */
  private static hashSeed(seed: bigint, bufferBytes: number): bigint {
    const bytes = new Uint8Array(bufferBytes);
    new DataView(bytes.buffer).setBigInt64(0, seed, false);
    const low = scalaBytesHash(bytes, SCALA_ARRAY_SEED);
    const high = scalaBytesHash(bytes, low);
    return ((BigInt(high >>> 0) << 32n) | BigInt(low >>> 0)) & MASK_64;
  }

  /** java.util.Random.next(bits) as XORShiftRandom overrides it: the low `bits` bits. */
  private next(bits: number): number {
    let s = this.seed;
    s ^= (s << 21n) & MASK_64;
    s ^= s >> 35n;
    s ^= (s << 4n) & MASK_64;
    this.seed = s;
    return Number(BigInt.asIntN(32, s & ((1n << BigInt(bits)) - 1n)));
  }

  /** java.util.Random.nextInt(). */
  nextInt(): number {
    return this.next(32);
  }

  /** java.util.Random.nextDouble(): 26 then 27 bits. */
  nextDouble(): number {
    return (this.next(26) * 134_217_728 + this.next(27)) * TWO_POW_MINUS_53;
  }

  /** java.util.Random.nextGaussian(): the polar method, keeping the second value for next time. */
  nextGaussian(): number {
    if (this.spareGaussian !== undefined) {
      const spare = this.spareGaussian;
      this.spareGaussian = undefined;
      return spare;
    }
    let v1: number, v2: number, s: number;
    do {
      v1 = 2 * this.nextDouble() - 1;
      v2 = 2 * this.nextDouble() - 1;
      s = v1 * v1 + v2 * v2;
    } while (s >= 1 || s === 0);
    // StrictMath.log is fdlibm's, as V8's Math.log; sqrt is correctly rounded in both.
    const multiplier = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareGaussian = v2 * multiplier;
    return v1 * multiplier;
  }
}
