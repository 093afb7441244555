import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 10_000
        }
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // SciStream's testbed tests have their own project (below).
          exclude: ['test/integration/scistream/**'],
          // Real brokers and kernels: slow to start, and they compete for 2 cores.
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false
        }
      },
      {
        test: {
          name: 'testbed',
          include: ['test/**/*.testbed.ts'],
          globalSetup: ['test/testbed/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false
        }
      },
      {
        test: {
          name: 'scistream',
          include: ['test/integration/scistream/**/*.test.ts'],
          // Gateways, an OIDC provider and proxies in network namespaces: slow, and sequential.
          testTimeout: 600_000,
          hookTimeout: 180_000,
          fileParallelism: false
        }
      }
    ]
  }
});
