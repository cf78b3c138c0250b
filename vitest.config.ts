import { availableParallelism } from 'node:os';
import { relative, resolve, sep } from 'node:path';
import { defineConfig } from 'vitest/config';

// practice/ (from `npm run exercise`) holds unfinished copies whose tests fail by design, so a plain
// `npm test` leaves it out; naming it, as in `npx vitest run practice/03-queries`, brings it in.
const practiceRequested = process.argv
  .slice(2)
  .some((arg) => !arg.startsWith('-') && relative(process.cwd(), resolve(arg)).split(sep)[0] === 'practice');

// Node.js keeps the compiled code of every module it loads here, for the next process: a test
// file starts several MCP servers, workers and clients, and each loads the same MCP SDK, Temporal
// client and zod. Set before the test processes start, so they and their children inherit it.
process.env.NODE_COMPILE_CACHE ??= resolve('.temporal', 'compile-cache');

export default defineConfig({
  test: {
    include: ['tutorials/**/*.test.ts', 'scripts/**/*.test.ts', ...(practiceRequested ? ['practice/**/*.test.ts'] : [])],
    // Child processes, not threads: the Temporal native module crashed under worker threads.
    pool: 'forks',
    // Files run side by side, each with its own servers on free loopback ports. Vitest's default
    // (cores - 1) would run them one by one on a 2-core laptop, yet most of a file's time is spent
    // waiting on servers, timers and child processes, so 3 at once keep both cores busy. Measured on
    // 2 cores: 4 at once took longer in all (each file starts servers and child processes of its
    // own, and the heaviest files slowed each other past a minute each).
    fileParallelism: true,
    maxWorkers: Math.max(3, availableParallelism()),
    // Quiet Temporal logs in every test process (TEMPORAL_LOG_LEVEL=INFO brings them back).
    setupFiles: ['shared/vitest-setup.ts'],
    // Servers start in seconds and workflows run for real; the 5 s / 10 s defaults are too tight.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
