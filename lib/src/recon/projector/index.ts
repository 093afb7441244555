export { adoptSystemMatrix, systemMatrixFor } from './cache.js';
export { checkGeometry, checkSlice, outputImage } from './geometry.js';
export type { SliceGeometry } from './geometry.js';
export { buildSystemMatrix } from './ray-geometry.js';
export { backProject, backProjectAdd, forwardProject } from './system-matrix.js';
export type { SystemMatrix } from './system-matrix.js';
export { INITIAL_VALUE, checkIterations } from './iteration.js';
