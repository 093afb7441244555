/** Index mappings at the ends of a signal, as scipy.ndimage names its boundary modes. */

/** The non-negative remainder (Python's %). */
export function mod(value: number, modulus: number): number {
  const r = value % modulus;
  return r < 0 ? r + modulus : r;
}

/** Half-sample reflection, mode='reflect' (d c b a | a b c d | d c b a). */
export function reflectIndex(index: number, length: number): number {
  const period = 2 * length;
  const i = mod(index, period);
  return i < length ? i : period - 1 - i;
}

/** Whole-sample mirror (… c b | a b c … | … b a b): scipy's mapping for spline coefficients. */
export function mirrorIndex(index: number, length: number): number {
  if (length <= 1) return 0;
  const period = 2 * length - 2;
  const i = mod(index, period);
  return i < length ? i : period - i;
}
