import type { SliceGeometry } from './geometry.js';

/**
 * TomoPy's ray-driven projector for one geometry as a sparse matrix in CSR form: row
 * `angle * pixels + detector` lists the image pixels (row-major index into size × size) the
 * ray crosses, in the order TomoPy walks them, with the length of the ray inside each.
 * Built once per geometry (see systemMatrixFor); the arrays live in SharedArrayBuffers so a
 * matrix can be posted to worker threads without copying.
 */
export interface SystemMatrix {
  readonly geometry: SliceGeometry;
  /** The angles it was built for (a private copy). */
  readonly angles: Float32Array;
  /** angles × pixels. */
  readonly rows: number;
  /** size × size. */
  readonly columns: number;
  /** rows + 1 offsets into `pixel` and `length`. */
  readonly rowStart: Int32Array;
  readonly pixel: Int32Array;
  readonly length: Float32Array;
  /** Per pixel, the summed length of all rays through it (TomoPy's sum_dist). */
  readonly columnSum: Float32Array;
  /** Per ray, the sum of its squared lengths (TomoPy's sum_dist2); 0 for a ray that misses. */
  readonly rowSquareSum: Float32Array;
}

/** out = A · image (one value per ray). */
export function forwardProject(matrix: SystemMatrix, image: Float32Array, out: Float32Array): void {
  const { rowStart, pixel, length, rows } = matrix;
  for (let row = 0; row < rows; row++) {
    let sum = 0;
    const end = rowStart[row + 1];
    for (let k = rowStart[row]; k < end; k++) sum += image[pixel[k]] * length[k];
    out[row] = sum;
  }
}

/** out = Aᵀ · rays (one value per pixel); `rays` has one value per row. */
export function backProject(matrix: SystemMatrix, rays: Float32Array, out: Float32Array): void {
  out.fill(0);
  backProjectAdd(matrix, rays, out);
}

/** out += Aᵀ · rays, accumulated in float32 in TomoPy's order. */
export function backProjectAdd(matrix: SystemMatrix, rays: Float32Array, out: Float32Array): void {
  const { rowStart, pixel, length, rows } = matrix;
  for (let row = 0; row < rows; row++) {
    const value = rays[row];
    if (value === 0) continue;
    const end = rowStart[row + 1];
    for (let k = rowStart[row]; k < end; k++) out[pixel[k]] += value * length[k];
  }
}
