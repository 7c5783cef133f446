import { defineConfig } from 'vitest/config';

// Two projects: unit tests (pure logic, no hosts) and integration tests
// (real libvirt/QEMU testbeds). Integration tests share one testbed per stack
// for the whole run, brought up once by the global setup.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 20 * 60_000,
          hookTimeout: 30 * 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
