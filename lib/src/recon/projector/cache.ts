import type { SliceGeometry } from './geometry.js';
import { buildSystemMatrix } from './ray-geometry.js';
import { RecentCache, geometryKey } from '../recent-cache.js';
import type { SystemMatrix } from './system-matrix.js';

/**
 * Matrices are large (640 pixels and 181 angles: 89 million entries, 710 MB), so at most two
 * geometries are kept, and the older one only while both fit in 1 GiB: enough for a stream of
 * sinograms that share one.
 */
const matrices = new RecentCache<SystemMatrix>(
  2,
  2 ** 30,
  matrix => matrix.pixel.byteLength + matrix.length.byteLength
);

function keyOf(angles: Float32Array, geometry: SliceGeometry): string {
  return geometryKey(angles, geometry.pixels, geometry.size, geometry.center);
}

/** The system matrix of this geometry: the cached one, else a new one (then cached). */
export function systemMatrixFor(angles: Float32Array, geometry: SliceGeometry): SystemMatrix {
  return matrices.get(keyOf(angles, geometry), () => buildSystemMatrix(angles, geometry));
}

/**
 * Puts a matrix built elsewhere (e.g. posted from another thread: its arrays are shared, not
 * copied) into this thread's cache.
 */
export function adoptSystemMatrix(matrix: SystemMatrix): void {
  matrices.set(keyOf(matrix.angles, matrix.geometry), matrix);
}
