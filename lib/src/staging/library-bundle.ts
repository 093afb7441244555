import { compiledModule } from '../entry-points/roles.js';
import { sha256Of, type StagedFile } from './staged-directory.js';

/**
 * The library as one file (dist/bundle/pilot-streaming.mjs, built by scripts/bundle.mjs) and the
 * assets it uses from beside itself: the FFT's WebAssembly (read by URL at run time) and the
 * Dask bridge (a Python program a Dask context starts on the resource).
 */
export const BUNDLE_FILE = 'pilot-streaming.mjs';
const BUNDLE_ASSETS = ['pffft.wasm', 'dask_bridge.py', 'dask_http_tls.py'];

export interface LibraryBundle {
  files: StagedFile[];
  /** sha256sum's lines for the files, bundle first. */
  sums: string[];
}

let bundle: Promise<LibraryBundle> | undefined;

/** The bundle's files and checksums, read once a process (the build does not change under it). */
export function libraryBundle(): Promise<LibraryBundle> {
  bundle ??= (async () => {
    const files = [BUNDLE_FILE, ...BUNDLE_ASSETS].map(name => ({
      local: compiledModule(`bundle/${name}`),
      name
    }));
    const sums = await Promise.all(files.map(file => sha256Of(file.local)));
    return { files, sums };
  })();
  // A bundle not built yet is looked for again next time.
  bundle.catch(() => (bundle = undefined));
  return bundle;
}
