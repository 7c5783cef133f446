import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/** The secret scan reads what every other test wrote: it runs last. */
class SecretScanLast extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const last = (f: TestSpecification) => f.moduleId.endsWith('/secret-scan-of-the-run.test.ts');
    return [...sorted.filter((f) => !last(f)), ...sorted.filter(last)];
  }
}

// Two projects: unit tests (pure logic, no hosts) and integration tests
// (real libvirt/QEMU testbeds). Integration tests share one testbed per stack
// for the whole run, brought up once by the global setup.
export default defineConfig({
  test: {
    sequence: { sequencer: SecretScanLast },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Unit tests first, on their own: they never compete with the TCG guests for the two cores.
          sequence: { groupOrder: 0 },
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
          sequence: { groupOrder: 1 },
        },
      },
      {
        // The fault matrix takes hours under TCG: only `npm run test:faults` (FOLLOWME_FAULTS=1) runs it.
        test: {
          name: 'faults',
          include: process.env['FOLLOWME_FAULTS'] ? ['test/faults/**/*.test.ts'] : [],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 30 * 60_000,
          hookTimeout: 30 * 60_000,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
