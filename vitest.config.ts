import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'scripts/**/*.test.ts'],
    // Generous: a test that spawns gateway processes on a busy two-core machine can take tens of seconds.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores here and in CI: more workers only add contention to the socket-heavy tests.
    maxWorkers: 2,
  },
});
