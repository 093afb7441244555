import type { ResolvedOptions } from '../options.js';
import type { SystemMatrix } from '../projector/index.js';

/**
 * One block to reconstruct: the block and the output live in shared memory, so slices are
 * neither copied to nor from the workers; `next` is a shared counter from which each worker
 * claims its next run of slices, so a slow worker never holds up the others.
 */
export interface SliceJob {
  readonly id: number;
  readonly angles: Float32Array;
  readonly pixels: number;
  readonly slices: number;
  readonly options: ResolvedOptions;
  readonly centers: Float64Array;
  readonly sinograms: SharedArrayBuffer;
  readonly images: SharedArrayBuffer;
  readonly next: SharedArrayBuffer;
  /** Slices claimed at once (2 for GridRec, which pairs them). */
  readonly chunk: number;
  /**
   * For ray-driven algorithms, the system matrix of each centre, built once by the caller: its
   * arrays are shared memory, so every worker uses the same copy (710 MB at 640 px, 181 angles).
   */
  readonly matrices: readonly SystemMatrix[];
}

/** What a worker reports about job `id`. */
export type SliceWorkerMessage =
  | { readonly kind: 'progress'; readonly id: number; readonly slices: number }
  | { readonly kind: 'done'; readonly id: number }
  | {
      readonly kind: 'error';
      readonly id: number;
      readonly name: string;
      readonly message: string;
      readonly stack?: string;
    };
