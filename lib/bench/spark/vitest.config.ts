import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The Spark start-up benchmark runs through vitest only to run TypeScript as-is; it asserts
// nothing about speed (benchmarks report, tests check). Run from lib/:
//   npx vitest run --config bench/spark/vitest.config.ts
export default defineConfig({
  root: resolve(dirname(fileURLToPath(import.meta.url)), '../..'),
  test: {
    include: ['bench/spark/**/*.run.ts'],
    testTimeout: 3_600_000,
    fileParallelism: false
  }
});
