import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tutorials/**/*.test.ts', 'scripts/**/*.test.ts'],
    // Child processes, not threads: the Temporal native module crashed under worker threads.
    pool: 'forks',
    // Servers start in seconds and workflows run for real; the 5 s / 10 s defaults are too tight.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
