import { compiledModule } from '../entry-points/roles.js';
import type { StagedFile } from './staged-directory.js';

/**
 * The library as one file (dist/bundle/pilot-streaming.mjs, built by scripts/bundle.mjs) and the
 * one asset it loads from beside itself (the FFT's WebAssembly, read by URL at run time).
 */
export const BUNDLE_FILE = 'pilot-streaming.mjs';
const BUNDLE_ASSETS = ['pffft.wasm'];

export function libraryBundleFiles(): StagedFile[] {
  return [BUNDLE_FILE, ...BUNDLE_ASSETS].map(name => ({
    local: compiledModule(`bundle/${name}`),
    name
  }));
}
