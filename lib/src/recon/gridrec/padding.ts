/** TomoPy's padded transform length: the next power of two ≥ the detector width, at least 16. */
export function paddedLength(pixels: number): number {
  let padded = 16;
  while (padded < pixels) padded *= 2;
  return padded;
}
