import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The Streaming Mini-Apps benchmark runs through vitest only to run TypeScript as-is; it asserts
// nothing about speed (benchmarks report, tests check). Its units run the built library
// (lib/dist), and its scaling row needs root for the SLURM testbed. Run from lib/ after a build:
//   npx vitest run --config bench/miniapps/vitest.config.ts
// MINIAPPS_BENCH_ROWS=producer,kmeans,gridrec,latency,scaling picks rows (default: all).
export default defineConfig({
  root: resolve(dirname(fileURLToPath(import.meta.url)), '../..'),
  test: {
    include: ['bench/miniapps/**/*.run.ts'],
    testTimeout: 1_800_000,
    hookTimeout: 300_000,
    fileParallelism: false
  }
});
