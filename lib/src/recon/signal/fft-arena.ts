import createPffft from '@echogarden/pffft-wasm/simd';

const PFFFT_FORWARD = 0;
const PFFFT_COMPLEX = 1;

/**
 * Complex FFTs of one power-of-two length on buffers in a WebAssembly heap of their own, by
 * PFFFT compiled with SIMD (docs/decisions.md: about 6× fft.js at 1024 points). Transforms
 * leave their output in PFFFT's internal order, a fixed permutation of the natural one that
 * `order` undoes at no cost while the caller reads it; reordering in place would cost as much
 * as the transform itself.
 *
 * Every buffer is allocated when the arena is made, so the heap never grows and the views stay
 * valid; the heap goes away with the arena. Not shared between threads.
 */
export interface FftArena {
  readonly length: number;
  /** order[k] is where float k of the naturally ordered spectrum (re, im interleaved) lies. */
  readonly order: Int32Array;
  /** The buffers asked for, as views of the heap (all zero at first). */
  readonly buffers: Float32Array[];
  /**
   * Forward DFT (e^{-2πikn/N}, unscaled) of `length` interleaved complex values of `input` into
   * `output`; both must be buffers of this arena (or views into them) and may be the same.
   */
  forward(input: Float32Array, output: Float32Array): void;
}

/** Makes an arena for transforms of `length` complex values and buffers of the given float counts. */
export async function createFftArena(
  length: number,
  floatCounts: readonly number[]
): Promise<FftArena> {
  if (!Number.isInteger(length) || length < 16 || (length & (length - 1)) !== 0)
    throw new RangeError(`FFT length ${length}: expected a power of two ≥ 16`);
  const module = await createPffft();
  const setup = module._pffft_new_setup(length, PFFFT_COMPLEX);
  // SIMD transforms want 16-byte alignment, which pffft_aligned_malloc gives.
  const counts = [...floatCounts, 2 * length, 2 * length, 2 * length];
  const pointers = counts.map(count => module._pffft_aligned_malloc(count * 4));
  // Views only after the last allocation: a growing heap replaces HEAPF32's buffer.
  const views = pointers.map((pointer, i) =>
    module.HEAPF32.subarray(pointer / 4, pointer / 4 + counts[i])
  );
  for (const view of views) view.fill(0);
  const [work, probe, reordered] = views.slice(floatCounts.length);

  // The permutation: reorder a buffer holding its own indices.
  for (let i = 0; i < probe.length; i++) probe[i] = i;
  module._pffft_zreorder(setup, probe.byteOffset, reordered.byteOffset, PFFFT_FORWARD);
  const order = Int32Array.from(reordered);

  return {
    length,
    order,
    buffers: views.slice(0, floatCounts.length),
    forward(input, output) {
      module._pffft_transform(
        setup,
        input.byteOffset,
        output.byteOffset,
        work.byteOffset,
        PFFFT_FORWARD
      );
    }
  };
}
