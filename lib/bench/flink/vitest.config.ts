import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The Flink start-up benchmark runs through vitest only to run TypeScript as-is; it asserts
// nothing about speed (benchmarks report, tests check). Run from lib/:
//   npx vitest run --config bench/flink/vitest.config.ts
export default defineConfig({
  root: resolve(dirname(fileURLToPath(import.meta.url)), '../..'),
  test: {
    include: ['bench/flink/**/*.run.ts'],
    testTimeout: 3_600_000,
    fileParallelism: false
  }
});
