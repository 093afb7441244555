import type { KernelPlugin } from './api.js';

/** The library parts that plug into every kernel at start-up. */
export const kernelPlugins: KernelPlugin[] = [];
