/** Ways to say how alike two reconstructions are, as the tests and benchmarks report them. */

/** ‖ours − reference‖ / ‖reference‖ over whole arrays. */
export function relativeL2(ours: ArrayLike<number>, reference: ArrayLike<number>): number {
  let difference = 0;
  let norm = 0;
  for (let i = 0; i < reference.length; i++) {
    difference += (ours[i] - reference[i]) ** 2;
    norm += reference[i] ** 2;
  }
  return Math.sqrt(difference / norm);
}

/**
 * Pearson's r of two size × size images over their inscribed circle: outside it no ray of a
 * 180° scan covers every angle, and methods differ there by design.
 */
export function pearsonInCircle(a: ArrayLike<number>, b: ArrayLike<number>, size: number): number {
  const radius2 = (size / 2) ** 2;
  const inside = (i: number, j: number) =>
    (i + 0.5 - size / 2) ** 2 + (j + 0.5 - size / 2) ** 2 < radius2;
  let count = 0;
  let sumA = 0;
  let sumB = 0;
  for (let i = 0; i < size; i++)
    for (let j = 0; j < size; j++)
      if (inside(i, j)) {
        sumA += a[i * size + j];
        sumB += b[i * size + j];
        count++;
      }
  const meanA = sumA / count;
  const meanB = sumB / count;
  let covariance = 0;
  let varianceA = 0;
  let varianceB = 0;
  for (let i = 0; i < size; i++)
    for (let j = 0; j < size; j++)
      if (inside(i, j)) {
        const da = a[i * size + j] - meanA;
        const db = b[i * size + j] - meanB;
        covariance += da * db;
        varianceA += da * da;
        varianceB += db * db;
      }
  return covariance / Math.sqrt(varianceA * varianceB);
}
