import type { ResolvedOptions } from '../options.js';

/**
 * What a slice worker gets: the block and the output live in shared memory, so slices are
 * neither copied to nor from the workers; `next` is a shared counter from which each worker
 * claims its next run of slices, so a slow worker never holds up the others.
 */
export interface SliceWorkerData {
  readonly angles: Float32Array;
  readonly pixels: number;
  readonly slices: number;
  readonly options: ResolvedOptions;
  readonly centers: Float64Array;
  readonly sinograms: SharedArrayBuffer;
  readonly images: SharedArrayBuffer;
  readonly next: SharedArrayBuffer;
  /** Slices claimed at once (even, so GridRec can pair them). */
  readonly chunk: number;
}

export type SliceWorkerMessage =
  | { readonly kind: 'progress'; readonly slices: number }
  | { readonly kind: 'done' }
  | {
      readonly kind: 'error';
      readonly name: string;
      readonly message: string;
      readonly stack?: string;
    };
