// The parts of the Emscripten module of @echogarden/pffft-wasm (PFFFT compiled to WebAssembly
// with SIMD) that we call; the package ships no type declarations.
declare module '@echogarden/pffft-wasm/simd' {
  export interface PffftModule {
    HEAPF32: Float32Array;
    _pffft_new_setup(length: number, kind: number): number;
    _pffft_destroy_setup(setup: number): void;
    _pffft_transform(
      setup: number,
      input: number,
      output: number,
      work: number,
      direction: number
    ): void;
    _pffft_zreorder(setup: number, input: number, output: number, direction: number): void;
    _pffft_aligned_malloc(bytes: number): number;
    _pffft_aligned_free(pointer: number): void;
  }
  const createModule: () => Promise<PffftModule>;
  export default createModule;
}
