import { checkGeometry } from './geometry.js';
import type { SliceGeometry } from './geometry.js';
import type { SystemMatrix } from './system-matrix.js';

/*
 * TomoPy's ray tracing (libtomo/recon/utils.c) re-done in float32 arithmetic step by step, so
 * the intersection lengths and pixel indices come out as TomoPy's do. Each ray is a line from
 * a source far outside the grid; its crossings with the vertical and horizontal grid lines are
 * merged in order along the ray and every pair of neighbouring crossings is one pixel segment.
 */

const f32 = Math.fround;
const PI_F = f32(Math.PI);
const TWO_PI_F = f32(2 * PI_F);
/** Crossings closer than this to the grid border are dropped (TomoPy's tolerance). */
const BORDER_F = f32(0.01);
/** TomoPy tests the angle's quadrant on an integer scaled by this; the product is float32. */
const QUADRANT_SCALE = 340870420;
const QUADRANT_SCALE_F = f32(QUADRANT_SCALE);

/**
 * Offset added to every detector position. TomoPy shifts the rays by 0.01 pixel when the centre
 * would put them exactly on grid lines, and its half-pixel term makes pixel d sit at d + 0.5.
 */
function detectorShift(pixels: number, center: number): number {
  let shift = f32(f32((pixels - 1) * 0.5) - f32(center));
  if (shift - Math.floor(shift) < BORDER_F) shift = f32(shift + BORDER_F);
  return f32(shift + 0.5);
}

/**
 * 1 when the ray direction's x and y grow together (first and third quadrant): crossings with
 * vertical grid lines then come in increasing x order, otherwise they are merged reversed.
 */
function rayQuadrant(theta: number): number {
  let scaled = Math.trunc(f32(theta * QUADRANT_SCALE_F));
  if (scaled < 0) scaled = Math.trunc(scaled + 2 * Math.PI * QUADRANT_SCALE);
  return (scaled >= 0 && scaled < 0.5 * Math.PI * QUADRANT_SCALE) ||
    (scaled >= 1.0 * Math.PI * QUADRANT_SCALE && scaled < 1.5 * Math.PI * QUADRANT_SCALE)
    ? 1
    : 0;
}

function sharedInt32(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(length * Int32Array.BYTES_PER_ELEMENT));
}

function sharedFloat32(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(length * Float32Array.BYTES_PER_ELEMENT));
}

/** Grid lines a ray may cross inside the grid: first and last index, empty when first > last. */
type LineSpan = [first: number, last: number];

/**
 * The grid lines n (0 … size) whose crossing `slope · (n + lineOffset) + base` lies within
 * [low, high], worked out in double precision and widened by 2 lines each way, so it surely
 * holds every line the float32 test below accepts; that test alone decides.
 */
function lineSpan(
  slope: number,
  lineOffset: number,
  base: number,
  low: number,
  high: number,
  size: number
): LineSpan {
  if (!Number.isFinite(slope)) return [0, -1];
  if (slope === 0) return base >= low && base <= high ? [0, size] : [0, -1];
  const a = (low - base) / slope - lineOffset;
  const b = (high - base) / slope - lineOffset;
  const first = Math.max(0, Math.floor(Math.min(a, b)) - 2);
  const last = Math.min(size, Math.ceil(Math.max(a, b)) + 2);
  return [first, last];
}

/** Traces every ray of the geometry (TomoPy's projector) into a new system matrix. */
export function buildSystemMatrix(angles: Float32Array, geometry: SliceGeometry): SystemMatrix {
  checkGeometry(geometry);
  const { pixels, size } = geometry;
  const rows = angles.length * pixels;
  const half = size * 0.5;

  // Grid line positions, centred on the rotation axis.
  const grid = new Float32Array(size + 1);
  for (let i = 0; i <= size; i++) grid[i] = f32(-size * 0.5 + i);
  const low = f32(grid[0] + BORDER_F);
  const high = f32(grid[size] - BORDER_F);

  // First pass: each ray's line (a far source point and its slopes) and the grid lines it may
  // cross, which bound its number of segments, so the matrix is allocated once.
  const sourceX = new Float32Array(rows);
  const sourceY = new Float32Array(rows);
  const slopes = new Float32Array(rows);
  const inverseSlopes = new Float32Array(rows);
  const spans = new Int32Array(4 * rows);
  const quadrants = new Uint8Array(angles.length);
  const shift = detectorShift(pixels, geometry.center);
  const xi = -size - size;
  let capacity = 0;
  for (let p = 0; p < angles.length; p++) {
    const theta = f32(angles[p] % TWO_PI_F);
    quadrants[p] = rayQuadrant(theta);
    const sin = f32(Math.sin(theta));
    const cos = f32(Math.cos(theta));
    for (let d = 0; d < pixels; d++) {
      const row = p * pixels + d;
      const yi = f32(f32(0.5 * (1 - pixels) + d) + shift);
      const srcX = f32(f32(xi * cos) - f32(yi * sin));
      const srcY = f32(f32(xi * sin) + f32(yi * cos));
      const detX = f32(f32(-xi * cos) - f32(yi * sin));
      const detY = f32(f32(-xi * sin) + f32(yi * cos));
      const slope = f32(f32(srcY - detY) / f32(srcX - detX));
      const inverseSlope = f32(f32(srcX - detX) / f32(srcY - detY));
      sourceX[row] = srcX;
      sourceY[row] = srcY;
      slopes[row] = slope;
      inverseSlopes[row] = inverseSlope;
      const [aFirst, aLast] = lineSpan(inverseSlope, -half - srcY, srcX, low, high, size);
      const [bFirst, bLast] = lineSpan(slope, -half - srcX, srcY, low, high, size);
      spans.set([aFirst, aLast, bFirst, bLast], 4 * row);
      capacity += Math.max(0, aLast - aFirst + 1) + Math.max(0, bLast - bFirst + 1);
    }
  }

  // Per-ray scratch: crossings with horizontal lines (a*) and vertical lines (b*), merged (c*).
  const ax = new Float32Array(size + 1);
  const ay = new Float32Array(size + 1);
  const bx = new Float32Array(size + 1);
  const by = new Float32Array(size + 1);
  const cx = new Float32Array(2 * size + 2);
  const cy = new Float32Array(2 * size + 2);

  const rowStart = sharedInt32(rows + 1);
  const rowSquareSum = sharedFloat32(rows);
  const columnSum = sharedFloat32(size * size);
  const pixel = sharedInt32(capacity);
  const length = sharedFloat32(capacity);
  let count = 0;

  for (let row = 0; row < rows; row++) {
    rowStart[row] = count;
    const srcX = sourceX[row];
    const srcY = sourceY[row];
    const slope = slopes[row];
    const inverseSlope = inverseSlopes[row];

    // Crossings inside the grid (NaN and ±Infinity for axis-parallel rays fail the tests).
    let aCount = 0;
    for (let n = spans[4 * row], last = spans[4 * row + 1]; n <= last; n++) {
      const x = f32(f32(inverseSlope * f32(grid[n] - srcY)) + srcX);
      if (x >= low && x <= high) {
        ax[aCount] = x;
        ay[aCount] = grid[n];
        aCount++;
      }
    }
    let bCount = 0;
    for (let n = spans[4 * row + 2], last = spans[4 * row + 3]; n <= last; n++) {
      const y = f32(f32(slope * f32(grid[n] - srcX)) + srcY);
      if (y >= low && y <= high) {
        bx[bCount] = grid[n];
        by[bCount] = y;
        bCount++;
      }
    }

    // Merge both sets in increasing x; the horizontal-line set is in decreasing x unless the
    // ray rises with x.
    const forward = quadrants[Math.floor(row / pixels)] === 1;
    let i = 0;
    let j = 0;
    let c = 0;
    while (i < aCount || j < bCount) {
      const ia = forward ? i : aCount - 1 - i;
      if (i < aCount && (j >= bCount || ax[ia] < bx[j])) {
        cx[c] = ax[ia];
        cy[c] = ay[ia];
        i++;
      } else {
        cx[c] = bx[j];
        cy[c] = by[j];
        j++;
      }
      c++;
    }

    // One segment per neighbouring pair: its length and the pixel holding its midpoint.
    let squareSum = 0;
    for (let n = 0; n + 1 < c; n++) {
      const dx = f32(cx[n + 1] - cx[n]);
      const dy = f32(cy[n + 1] - cy[n]);
      const segment = f32(Math.sqrt(f32(f32(dx * dx) + f32(dy * dy))));
      if (segment === 0) continue;
      const xIndex = Math.floor(f32(f32(0.5 * f32(cx[n + 1] + cx[n])) + half));
      const yIndex = Math.floor(f32(f32(0.5 * f32(cy[n + 1] + cy[n])) + half));
      if (xIndex < 0 || xIndex >= size || yIndex < 0 || yIndex >= size) continue;
      const index = xIndex * size + yIndex;
      pixel[count] = index;
      length[count] = segment;
      count++;
      squareSum = f32(squareSum + f32(segment * segment));
      columnSum[index] += segment;
    }
    rowSquareSum[row] = squareSum;
  }
  rowStart[rows] = count;

  return {
    geometry: { ...geometry },
    angles: Float32Array.from(angles),
    rows,
    columns: size * size,
    rowStart,
    pixel: pixel.subarray(0, count),
    length: length.subarray(0, count),
    columnSum,
    rowSquareSum
  };
}
