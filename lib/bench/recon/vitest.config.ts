import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The reconstruction benchmark runs through vitest only to run TypeScript as-is; it asserts
// nothing about speed (benchmarks report, tests check). Run from lib/ after a build:
//   npx vitest run --config bench/recon/vitest.config.ts
export default defineConfig({
  root: resolve(dirname(fileURLToPath(import.meta.url)), '../..'),
  test: {
    include: ['bench/recon/**/*.run.ts'],
    testTimeout: 3_600_000,
    hookTimeout: 300_000,
    fileParallelism: false
  }
});
