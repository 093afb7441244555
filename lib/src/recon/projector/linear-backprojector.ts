import type { SliceGeometry } from './geometry.js';

/** Zero samples on each side of a detector row, so interpolation near the ends needs no test. */
export const ROW_GUARD = 2;

/**
 * A pixel-driven back-projector: every image pixel takes, from every angle, the detector value
 * where the ray through its centre lands, interpolated linearly between detector pixels (0
 * beyond the detector). Coordinates are GridRec's, which differ from TomoPy's projector (see
 * SliceGeometry) by half a pixel: see backProject.
 *
 * Rows come in a padded layout: angle p's detector pixel d at `p * rowStride + d + ROW_GUARD`,
 * with ROW_GUARD zeros before and after each row. Holds its tables and one row of sums, so it
 * allocates nothing per call; not re-entrant.
 */
export class LinearBackprojector {
  readonly geometry: SliceGeometry;
  /** Samples per detector pixel in the rows handed in (filtered rows may be oversampled). */
  readonly samplesPerPixel: number;
  readonly rowStride: number;
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly sums: Float64Array;

  constructor(angles: Float32Array, geometry: SliceGeometry, samplesPerPixel = 1) {
    this.geometry = { ...geometry };
    this.samplesPerPixel = samplesPerPixel;
    this.rowStride = geometry.pixels * samplesPerPixel + 2 * ROW_GUARD;
    // Positions are counted in samples: the tables carry the sampling factor.
    this.cos = Float64Array.from(angles, angle => Math.cos(angle) * samplesPerPixel);
    this.sin = Float64Array.from(angles, angle => Math.sin(angle) * samplesPerPixel);
    this.sums = new Float64Array(geometry.size);
  }

  /** out (size × size) = scale × the back-projection of `rows`. */
  backProject(rows: Float64Array, scale: number, out: Float32Array): void {
    const { size, pixels, center } = this.geometry;
    const { cos, sin, sums, rowStride, samplesPerPixel } = this;
    // GridRec's layout (so our FBP and GridRec line up for the same centre): the rotation axis
    // is on the centre of column ⌈size/2⌉ and of row size − 1 − ⌈size/2⌉, and detector sample d
    // is at coordinate d.
    const axisColumn = Math.ceil(size / 2);
    const axisRow = size - 1 - axisColumn;
    const toSample = ROW_GUARD + center * samplesPerPixel;
    // Beyond these the interpolated value is 0 (both neighbours are guards).
    const first = ROW_GUARD - 1;
    const last = ROW_GUARD + pixels * samplesPerPixel;

    for (let i = 0; i < size; i++) {
      const x = i - axisRow;
      sums.fill(0);
      for (let p = 0; p < cos.length; p++) {
        const step = cos[p];
        const start = -x * sin[p] - axisColumn * step + toSample;
        const row = p * rowStride;
        // Columns whose sample position lies in [first, last].
        let jFrom = 0;
        let jTo = size - 1;
        if (step > 1e-12) {
          jFrom = Math.max(jFrom, Math.ceil((first - start) / step));
          jTo = Math.min(jTo, Math.floor((last - start) / step));
        } else if (step < -1e-12) {
          jFrom = Math.max(jFrom, Math.ceil((last - start) / step));
          jTo = Math.min(jTo, Math.floor((first - start) / step));
        } else if (start < first || start > last) {
          continue;
        }
        let position = start + jFrom * step;
        for (let j = jFrom; j <= jTo; j++) {
          const k = position | 0;
          const below = rows[row + k];
          sums[j] += below + (position - k) * (rows[row + k + 1] - below);
          position += step;
        }
      }
      const offset = i * size;
      for (let j = 0; j < size; j++) out[offset + j] = sums[j] * scale;
    }
  }
}
