import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests spawn servers and children; two workers match the 2-core machines we run on.
    maxWorkers: 2,
    // Memory assertions (the soak's paused consumer) collect garbage first, so they measure what is
    // retained rather than when the collector last ran.
    execArgv: ['--expose-gc'],
  },
});
