import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Test against the protocol's sources, so tests need no library build.
    alias: {
      '@pilot-streaming/lib/protocol': fileURLToPath(
        new URL('../lib/src/protocol/index.ts', import.meta.url)
      )
    }
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node'
  }
});
