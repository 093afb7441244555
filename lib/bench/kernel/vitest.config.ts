import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The kernel benchmark runs through vitest only to run TypeScript as-is; it asserts nothing about
// speed (benchmarks report, tests check). Run from lib/:
//   npx vitest run --config bench/kernel/vitest.config.ts
export default defineConfig({
  root: resolve(dirname(fileURLToPath(import.meta.url)), '../..'),
  test: {
    include: ['bench/kernel/**/*.run.ts'],
    testTimeout: 1_800_000,
    fileParallelism: false
  }
});
