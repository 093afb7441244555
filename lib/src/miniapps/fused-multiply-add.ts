/**
 * round(a·b + c) with one rounding, as Java's Math.fma gives it, in plain double arithmetic:
 * Spark's BLAS computes axpy with it on Java 11 and later, and StreamingKMeans must round as
 * Spark does to match its centres bit for bit.
 */

// Dekker's exact product, Knuth's exact sum and rounding to odd (Boldo and
// Melquiond, "Emulation of FMA and correctly rounded sums", IEEE TC 2008, algorithm 5.4) give
// round(a·b + c) in double arithmetic. It runs once per centre coordinate per batch.
const SPLITTER = 134_217_729; // 2^27 + 1
const FMA_MAX_FACTOR = 2 ** 450;
const FMA_MIN_FACTOR = 2 ** -450;
const FMA_MAX_ADDEND = 2 ** 950;
const FMA_MIN_ADDEND = 2 ** -900;
const bitsView = new DataView(new ArrayBuffer(8));

/** The exact error of a + b = sum (Knuth's TwoSum). */
function sumError(a: number, b: number, sum: number): number {
  const bVirtual = sum - a;
  return a - (sum - bVirtual) + (b - bVirtual);
}

/** a + b rounded to odd: when inexact, the neighbour of the exact sum whose last bit is 1. */
function addRoundToOdd(a: number, b: number): number {
  const sum = a + b;
  const error = sumError(a, b, sum);
  bitsView.setFloat64(0, sum, true);
  const low = bitsView.getUint32(0, true);
  if (error === 0 || (low & 1) === 1) return sum;
  // One ulp towards the exact sum: up in magnitude when the error has the sum's sign.
  if (error > 0 === sum > 0) {
    bitsView.setUint32(0, low + 1, true);
  } else if (low === 0) {
    bitsView.setUint32(0, 0xffffffff, true);
    bitsView.setUint32(4, bitsView.getUint32(4, true) - 1, true);
  } else {
    bitsView.setUint32(0, low - 1, true);
  }
  return bitsView.getFloat64(0, true);
}

/** a·b + c rounded once, as Java's Math.fma. */
export function fusedMultiplyAdd(a: number, b: number, c: number): number {
  const product = a * b;
  const absA = Math.abs(a);
  const absB = Math.abs(b);
  const absC = Math.abs(c);
  // Outside these ranges the splitting could overflow or underflow: round twice there.
  if (
    !(absA >= FMA_MIN_FACTOR && absA <= FMA_MAX_FACTOR) ||
    !(absB >= FMA_MIN_FACTOR && absB <= FMA_MAX_FACTOR) ||
    !(c === 0 || (absC >= FMA_MIN_ADDEND && absC <= FMA_MAX_ADDEND))
  )
    return product + c;
  let t = SPLITTER * a;
  const aHigh = t - (t - a);
  const aLow = a - aHigh;
  t = SPLITTER * b;
  const bHigh = t - (t - b);
  const bLow = b - bHigh;
  const productError = aHigh * bHigh - product + aHigh * bLow + aLow * bHigh + aLow * bLow;
  if (productError === 0) return product + c;
  const high = c + product;
  const low = sumError(c, product, high);
  return high + addRoundToOdd(low, productError);
}
