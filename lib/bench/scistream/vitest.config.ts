import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The SciStream benchmark runs through vitest only to run TypeScript as-is; it asserts nothing
// about speed (benchmarks report, tests check). Run from lib/:
//   npx vitest run --config bench/scistream/vitest.config.ts
export default defineConfig({
  root: resolve(dirname(fileURLToPath(import.meta.url)), '../..'),
  test: {
    include: ['bench/scistream/**/*.run.ts'],
    testTimeout: 1_800_000,
    hookTimeout: 300_000,
    fileParallelism: false
  }
});
