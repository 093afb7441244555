// Builds dist/bundle/: the library's programs that run on a pilot's resource as one file
// (pilot-streaming.mjs, `node pilot-streaming.mjs <role> ...`, see src/entry-points) plus what
// it uses from beside itself: the FFT's WebAssembly and the Python programs it starts (the Dask
// bridge). Resources reached over ssh get these files staged instead of a node_modules tree.
// Runs after tsc (npm run build).
import { build } from 'esbuild';
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const lib = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(lib, 'dist', 'bundle');
await mkdir(out, { recursive: true });
await build({
  entryPoints: [join(lib, 'dist', 'entry-points', 'bundle-main.js')],
  outfile: join(out, 'pilot-streaming.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  // CommonJS dependencies (kafkajs, node-forge) call require() for Node's own modules.
  banner: {
    js: "import { createRequire as __bundleRequire } from 'node:module'; const require = __bundleRequire(import.meta.url);"
  }
});
const pffft = createRequire(import.meta.url).resolve('@echogarden/pffft-wasm/simd');
await copyFile(join(dirname(pffft), 'pffft.wasm'), join(out, 'pffft.wasm'));
// Python programs the bundle runs on a resource (see pythonProgram in src/entry-points/roles.ts).
for (const name of await readdir(join(lib, 'python'))) {
  if (name.endsWith('.py')) await copyFile(join(lib, 'python', name), join(out, name));
}
