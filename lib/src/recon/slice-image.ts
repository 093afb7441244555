import { PNG } from 'pngjs';

/** Grey levels map [low, high] to black … white. */
export interface DisplayRange {
  readonly low: number;
  readonly high: number;
}

/**
 * Auto contrast as image viewers do it: the range between the 0.5th and 99.5th percentiles of
 * the finite values, so a few hot or dead pixels do not wash the image out. Percentiles come from
 * a 4096-bin histogram (exact enough for 8-bit display, linear in the pixel count).
 */
export function autoContrast(image: Float32Array, clip = 0.005): DisplayRange {
  let min = Infinity;
  let max = -Infinity;
  let finite = 0;
  for (const value of image) {
    if (!Number.isFinite(value)) continue;
    if (value < min) min = value;
    if (value > max) max = value;
    finite++;
  }
  if (finite === 0) return { low: 0, high: 1 };
  if (max === min) return { low: min, high: min + 1 };
  const bins = 4096;
  const histogram = new Uint32Array(bins);
  const scale = (bins - 1) / (max - min);
  for (const value of image)
    if (Number.isFinite(value)) histogram[Math.floor((value - min) * scale)]++;
  const cut = Math.floor(finite * clip);
  let low = 0;
  for (let seen = 0; low < bins - 1 && seen + histogram[low] <= cut; low++) seen += histogram[low];
  let high = bins - 1;
  for (let seen = 0; high > low && seen + histogram[high] <= cut; high--) seen += histogram[high];
  return { low: min + low / scale, high: min + (high + 1) / scale };
}

/** An 8-bit greyscale PNG of one slice (width × height, row-major), auto contrast by default. */
export function slicePng(
  image: Float32Array,
  width: number,
  height: number = width,
  range: DisplayRange = autoContrast(image)
): Buffer {
  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  const grey = Buffer.alloc(width * height);
  const span = range.high - range.low;
  for (let i = 0; i < grey.length; i++) {
    const level = ((image[i] - range.low) / span) * 255;
    grey[i] = Number.isNaN(level) ? 0 : Math.max(0, Math.min(255, Math.round(level)));
  }
  png.data = grey;
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
}
