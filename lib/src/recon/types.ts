/**
 * Array shapes shared by the reconstruction code. Everything is float32 in C order, so a block
 * travels to a worker thread or into a Kafka message without conversion.
 */

/** Sinograms: `slices` × `angles` × `pixels` (detector width). One slice is one sinogram. */
export interface SinogramStack {
  readonly data: Float32Array;
  readonly slices: number;
  readonly angles: number;
  readonly pixels: number;
}

/** Reconstructed slices: `slices` × `size` × `size` (rows, then columns). */
export interface ImageStack {
  readonly data: Float32Array;
  readonly slices: number;
  readonly size: number;
}

/**
 * Projections as an instrument records them: `angles` × `rows` × `pixels` (TomoPy's
 * default order; one detector row becomes one slice).
 */
export interface ProjectionStack {
  readonly data: Float32Array;
  readonly angles: number;
  readonly rows: number;
  readonly pixels: number;
}

/**
 * True for a Float32Array from any realm: notebook cells run in their own context, whose
 * Float32Array is not this module's, so `instanceof` would refuse their arrays.
 */
export function isFloat32Array(value: unknown): value is Float32Array {
  return isTypedArrayNamed(value, 'Float32Array');
}

/** True for a typed array of the given class from any realm (see isFloat32Array). */
export function isTypedArrayNamed(value: unknown, name: string): boolean {
  return ArrayBuffer.isView(value) && Object.prototype.toString.call(value) === `[object ${name}]`;
}
