import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The pilot start-up benchmark runs through vitest only to run TypeScript as-is; it asserts
// nothing about speed (benchmarks report, tests check). Needs root for the SLURM testbed. Run
// from lib/:
//   npx vitest run --config bench/startup/vitest.config.ts
export default defineConfig({
  root: resolve(dirname(fileURLToPath(import.meta.url)), '../..'),
  test: {
    include: ['bench/startup/**/*.run.ts'],
    testTimeout: 1_800_000,
    hookTimeout: 300_000,
    fileParallelism: false
  }
});
