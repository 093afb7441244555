import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The cost of a Kafka pilot's TLS on producer throughput, against a PLAINTEXT pilot measured in
// the same run. It asserts nothing about speed (benchmarks report, tests check). Run from lib/:
//   npx vitest run --config bench/kafka-tls/vitest.config.ts
export default defineConfig({
  root: resolve(dirname(fileURLToPath(import.meta.url)), '../..'),
  test: {
    include: ['bench/kafka-tls/**/*.run.ts'],
    testTimeout: 1_800_000,
    hookTimeout: 300_000,
    fileParallelism: false
  }
});
